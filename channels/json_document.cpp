#include "channels/json_document.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace kp::channels {

namespace {

using json = nlohmann::ordered_json;

// nlohmann's SAX interface (json_sax), building the value. The members of every open object
// and array wait on one stack, a member from its key on; each open container remembers where
// its members start.
class document_builder {
public:
    document_builder() { pending_.reserve(32); }

    bool null() { return add(json(nullptr)); }
    bool boolean(bool value) { return add(json(value)); }
    bool number_integer(json::number_integer_t value) { return add(json(value)); }
    bool number_unsigned(json::number_unsigned_t value) { return add(json(value)); }
    bool number_float(json::number_float_t value, json::string_t const&) { return add(json(value)); }
    bool string(json::string_t& value) { return add(json(value)); }   // the lexer keeps its buffer
    bool binary(json::binary_t& value) { return add(json::binary(value)); }   // not in JSON text

    bool start_object(std::size_t) {
        open_.push_back({pending_.size(), true});
        return true;
    }
    bool key(json::string_t& name) {   // the member waits for its value
        pending_.emplace_back(name, json());
        return true;
    }
    bool end_object() {
        auto const start = open_.back().start;
        open_.pop_back();
        json object(json::value_t::object);
        auto& members = object.get_ref<json::object_t&>();
        members.reserve(pending_.size() - start);
        for (auto it = pending_.begin() + static_cast<std::ptrdiff_t>(start); it != pending_.end(); ++it) {
            // A repeated key keeps its first place and takes the last value, as parse() does.
            auto same = std::find_if(members.begin(), members.end(), [&](auto const& m) { return m.first == it->first; });
            if (same != members.end())
                same->second = std::move(it->second);
            else
                members.emplace_back(std::move(it->first), std::move(it->second));
        }
        pending_.resize(start);
        return add(std::move(object));
    }

    bool start_array(std::size_t) {
        open_.push_back({pending_.size(), false});
        return true;
    }
    bool end_array() {
        auto const start = open_.back().start;
        open_.pop_back();
        json array(json::value_t::array);
        auto& elements = array.get_ref<json::array_t&>();
        elements.reserve(pending_.size() - start);
        for (auto it = pending_.begin() + static_cast<std::ptrdiff_t>(start); it != pending_.end(); ++it)
            elements.push_back(std::move(it->second));
        pending_.resize(start);
        return add(std::move(array));
    }

    bool parse_error(std::size_t, std::string const&, nlohmann::detail::exception const&) { return false; }

    json take() { return std::move(root_); }

private:
    struct container {
        std::size_t start;   // its first pending member
        bool object;
    };

    bool add(json&& value) {
        if (open_.empty())
            root_ = std::move(value);
        else if (open_.back().object)
            pending_.back().second = std::move(value);   // the member its key started
        else
            pending_.emplace_back(std::string(), std::move(value));
        return true;
    }

    std::vector<std::pair<std::string, json>> pending_;   // (key, value); no key in an array
    std::vector<container> open_;
    json root_;
};

}  // namespace

std::optional<json> parse_json_document(std::string_view text) {
    document_builder builder;
    if (!json::sax_parse(text.begin(), text.end(), &builder)) return std::nullopt;
    return builder.take();
}

}  // namespace kp::channels
