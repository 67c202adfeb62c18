#include "server/sse/sse_event_id.hpp"

#include "text/unsigned_number.hpp"

#include <charconv>

namespace kp::server {

namespace {

// Epochs are the store's lower-case hexadecimal; any id-like text is accepted as one, so that
// an id from another server or store resumes nothing rather than being refused.
bool valid_epoch(std::string_view epoch) {
    if (epoch.empty() || epoch.size() > 64) return false;
    for (char c : epoch) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::optional<sse_event_id::position> sse_event_id::parse(std::string_view text, std::size_t channels) {
    if (text.size() > max_length || channels == 0) return std::nullopt;
    auto const first = text.find('_');
    if (first == std::string_view::npos || !valid_epoch(text.substr(0, first))) return std::nullopt;
    position out{std::string(text.substr(0, first)), {}};
    out.offsets.reserve(channels);
    std::string_view rest = text.substr(first + 1);
    while (true) {
        if (out.offsets.size() == channels) return std::nullopt;   // more offsets than channels
        auto const end = rest.find('_');
        auto const field = rest.substr(0, end);
        if (field.empty()) {
            out.offsets.emplace_back(std::nullopt);
        } else {
            auto offset = text::parse_unsigned(field);
            if (!offset) return std::nullopt;
            out.offsets.emplace_back(*offset);
        }
        if (end == std::string_view::npos) break;
        rest = rest.substr(end + 1);
    }
    if (out.offsets.size() != channels) return std::nullopt;
    return out;
}

void sse_event_id::append(std::string& out, std::string_view epoch,
                          std::span<std::optional<std::uint64_t> const> offsets) {
    out += epoch;
    for (auto const& offset : offsets) {
        out += '_';
        if (!offset) continue;
        char digits[20];
        auto const written = std::to_chars(digits, digits + sizeof digits, *offset);
        out.append(digits, written.ptr);
    }
}

}  // namespace kp::server
