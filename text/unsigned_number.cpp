#include "text/unsigned_number.hpp"

#include <charconv>

namespace kp::text {

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
    // from_chars into an unsigned type takes no sign and no blanks, and refuses an overflow.
    std::uint64_t value = 0;
    auto const* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
    return value;
}

}  // namespace kp::text
