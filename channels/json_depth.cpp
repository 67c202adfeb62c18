#include "channels/json_depth.hpp"

#include <cstring>

namespace kp::channels {

namespace {

// The closing quote of the string whose content starts at `p`, or null when there is none.
// memchr finds each candidate quote; one preceded by an odd run of backslashes is escaped.
// (Run on every publish: most of an event's bytes are in its strings.)
char const* closing_quote(char const* p, char const* end) {
    for (char const* from = p;;) {
        auto const* quote = static_cast<char const*>(std::memchr(from, '"', static_cast<std::size_t>(end - from)));
        if (quote == nullptr) return nullptr;
        std::size_t backslashes = 0;
        for (char const* b = quote; b > p && b[-1] == '\\'; --b) ++backslashes;
        if (backslashes % 2 == 0) return quote;
        from = quote + 1;
    }
}

}  // namespace

bool json_depth_within(std::string_view text, std::size_t max_depth) {
    std::size_t depth = 0;
    char const* const end = text.data() + text.size();
    for (char const* p = text.data(); p < end; ++p) {
        switch (*p) {
        case '"':
            p = closing_quote(p + 1, end);
            if (p == nullptr) return true;   // unterminated: the parser refuses it
            break;
        case '[':
        case '{':
            if (++depth > max_depth) return false;
            break;
        case ']':
        case '}':
            if (depth > 0) --depth;
            break;
        default: break;
        }
    }
    return true;
}

}  // namespace kp::channels
