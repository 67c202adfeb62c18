#include "store/redis_wire_format.hpp"

#include <charconv>

namespace kp::store {

namespace {

template <class T>
std::optional<T> number(std::string_view text) {
    T value{};
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

// The text up to the next newline, consumed with it.
std::optional<std::string_view> line(std::string_view& text) {
    auto end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;
    auto out = text.substr(0, end);
    text.remove_prefix(end + 1);
    return out;
}

}  // namespace

std::optional<std::vector<event_record>> redis_wire_format::decode_transaction(std::string_view text) {
    std::vector<event_record> out;
    while (!text.empty()) {
        auto channel = line(text);
        auto offset = line(text);
        auto timestamp = line(text);
        auto stored_at = line(text);
        auto size = line(text);
        if (!channel || !offset || !timestamp || !stored_at || !size || channel->empty()) return std::nullopt;
        auto o = number<std::uint64_t>(*offset);
        auto t = number<std::int64_t>(*timestamp);
        auto s = number<std::int64_t>(*stored_at);
        auto n = number<std::size_t>(*size);
        if (!o || !t || !s || !n || *o == 0 || *n > text.size()) return std::nullopt;
        out.push_back({std::string(*channel), *o, *t, *s, std::string(text.substr(0, *n))});
        text.remove_prefix(*n);
    }
    return out;
}

std::optional<std::vector<channel_offset>> redis_wire_format::decode_offsets(std::string_view text) {
    std::vector<channel_offset> out;
    while (!text.empty()) {
        auto entry = line(text);
        if (!entry) return std::nullopt;
        auto space = entry->find(' ');
        if (space == std::string_view::npos) return std::nullopt;
        auto offset = number<std::uint64_t>(entry->substr(0, space));
        if (!offset || space + 1 >= entry->size()) return std::nullopt;
        out.push_back({std::string(entry->substr(space + 1)), *offset});
    }
    return out;
}

std::optional<std::uint64_t> redis_wire_format::offset_of(std::string_view id) {
    auto dash = id.find('-');
    if (dash == std::string_view::npos || id.substr(dash + 1) != "0") return std::nullopt;
    return number<std::uint64_t>(id.substr(0, dash));
}

std::optional<std::vector<event_record>> redis_wire_format::decode_entries(std::string const& channel,
                                                                          redis_reply const& reply) {
    if (reply.type != redis_reply::kind::array) return std::nullopt;
    std::vector<event_record> out;
    out.reserve(reply.elements.size());
    for (auto const& entry : reply.elements) {
        if (entry.type != redis_reply::kind::array || entry.elements.size() != 2 ||
            entry.elements[1].type != redis_reply::kind::array)
            return std::nullopt;
        auto offset = offset_of(entry.elements[0].text);
        if (!offset) return std::nullopt;
        event_record record{channel, *offset, 0, 0, {}};
        bool has_ts = false, has_at = false, has_body = false;
        auto const& fields = entry.elements[1].elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            auto const& name = fields[i].text;
            auto const& value = fields[i + 1].text;
            if (name == "ts") {
                auto v = number<std::int64_t>(value);
                if (!v) return std::nullopt;
                record.timestamp = *v;
                has_ts = true;
            } else if (name == "at") {
                auto v = number<std::int64_t>(value);
                if (!v) return std::nullopt;
                record.stored_at_ms = *v;
                has_at = true;
            } else if (name == "body") {
                record.body = value;
                has_body = true;
            }
        }
        if (!has_ts || !has_at || !has_body) return std::nullopt;
        out.push_back(std::move(record));
    }
    return out;
}

}  // namespace kp::store
