#include "channels/json_document.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace kp::channels {

namespace {

using json = nlohmann::ordered_json;
using boost::json::error_code;
using boost::json::string_view;

// Boost.JSON's parser handler (basic_parser), building the value. The members of every open
// object and array wait on one stack, a member from its key on; each open container remembers
// where its members start. Text split into parts (`*_part`) is gathered in `part_`.
class document_builder {
public:
    static constexpr std::size_t max_array_size = -1;
    static constexpr std::size_t max_object_size = -1;
    static constexpr std::size_t max_string_size = -1;
    static constexpr std::size_t max_key_size = -1;

    document_builder() { pending_.reserve(32); }

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }

    bool on_object_begin(error_code&) {
        open_.push_back({pending_.size(), true});
        return true;
    }
    bool on_object_end(std::size_t, error_code&) {
        auto const start = close();
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

    bool on_array_begin(error_code&) {
        open_.push_back({pending_.size(), false});
        return true;
    }
    bool on_array_end(std::size_t, error_code&) {
        auto const start = close();
        json array(json::value_t::array);
        auto& elements = array.get_ref<json::array_t&>();
        elements.reserve(pending_.size() - start);
        for (auto it = pending_.begin() + static_cast<std::ptrdiff_t>(start); it != pending_.end(); ++it)
            elements.push_back(std::move(it->second));
        pending_.resize(start);
        return add(std::move(array));
    }

    bool on_key_part(string_view text, std::size_t, error_code&) { return gather(text); }
    bool on_key(string_view text, std::size_t, error_code&) {   // the member waits for its value
        pending_.emplace_back(whole(text), json());
        return true;
    }
    bool on_string_part(string_view text, std::size_t, error_code&) { return gather(text); }
    bool on_string(string_view text, std::size_t, error_code&) { return add(json(whole(text))); }

    bool on_number_part(string_view text, error_code&) { return gather(text); }
    bool on_int64(std::int64_t value, string_view text, error_code&) {
        // nlohmann's types: a number with a minus sign is an integer, one without is unsigned.
        bool const negative = (part_.empty() ? text.front() : part_.front()) == '-';
        part_.clear();
        return negative ? add(json(value)) : add(json(static_cast<std::uint64_t>(value)));
    }
    bool on_uint64(std::uint64_t value, string_view, error_code&) {
        part_.clear();
        return add(json(value));
    }
    bool on_double(double, string_view text, error_code&) {
        // Read again with strtod, as nlohmann does: correctly rounded (this Boost.JSON may be
        // one unit off in the last place), and what it does at the edges. A number beyond a
        // double is refused, as parse() refuses it.
        gather(text);
        double const value = std::strtod(part_.c_str(), nullptr);
        part_.clear();
        return std::isfinite(value) && add(json(value));
    }

    bool on_bool(bool value, error_code&) { return add(json(value)); }
    bool on_null(error_code&) { return add(json(nullptr)); }
    bool on_comment_part(string_view, error_code&) { return false; }   // comments are not allowed
    bool on_comment(string_view, error_code&) { return false; }

    json take() { return std::move(root_); }

private:
    struct container {
        std::size_t start;   // its first pending member
        bool object;
    };

    std::size_t close() {
        auto const start = open_.back().start;
        open_.pop_back();
        return start;
    }

    bool gather(string_view text) {
        part_.append(text.data(), text.size());
        return true;
    }

    // The text of a key, string or number whose earlier parts were gathered.
    std::string whole(string_view last) {
        if (part_.empty()) return std::string(last.data(), last.size());
        part_.append(last.data(), last.size());
        std::string out = std::move(part_);
        part_.clear();
        return out;
    }

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
    std::string part_;
    json root_;
};

}  // namespace

std::optional<json> parse_json_document(std::string_view text) {
    boost::json::parse_options options;   // standard JSON only: no comments, no trailing commas
    options.max_depth = 4096;
    boost::json::basic_parser<document_builder> parser(options);
    error_code ec;
    auto const used = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && used == text.size()) return parser.handler().take();
    // Not JSON, or text after the value, for Boost.JSON: nlohmann decides (see the header).
    auto value = json::parse(text, nullptr, false);
    if (value.is_discarded()) return std::nullopt;
    return value;
}

}  // namespace kp::channels
