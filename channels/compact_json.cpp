#include "channels/compact_json.hpp"

#include "channels/json_string.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace kp::channels {

namespace {

template <class Integer>
void append_integer(std::string& out, Integer value) {
    char digits[24];
    auto const end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, end);
}

}  // namespace

void append_compact_json(std::string& out, nlohmann::ordered_json const& value) {
    using type = nlohmann::ordered_json::value_t;
    switch (value.type()) {
    case type::object: {
        out += '{';
        bool first = true;
        for (auto it = value.begin(); it != value.end(); ++it) {
            if (!first) out += ',';
            first = false;
            append_json_string(out, it.key());
            out += ':';
            append_compact_json(out, it.value());
        }
        out += '}';
        return;
    }
    case type::array: {
        out += '[';
        bool first = true;
        for (auto const& element : value) {
            if (!first) out += ',';
            first = false;
            append_compact_json(out, element);
        }
        out += ']';
        return;
    }
    case type::string: append_json_string(out, value.get_ref<std::string const&>()); return;
    case type::number_integer: append_integer(out, value.get<std::int64_t>()); return;
    case type::number_unsigned: append_integer(out, value.get<std::uint64_t>()); return;
    case type::boolean: out += value.get<bool>() ? "true" : "false"; return;
    case type::null: out += "null"; return;
    default: out += value.dump(); return;   // floats (nlohmann's own shortest form) and the rest
    }
}

}  // namespace kp::channels
