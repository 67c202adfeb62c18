#pragma once
// Whole unsigned decimal numbers as every option, URL port and query parameter of kinto-push
// spells them: the one place that decides which texts are numbers.

#include <cstdint>
#include <optional>
#include <string_view>

namespace kp::text {

// The value of `text` when all of it is decimal digits (at least one; leading zeros allowed)
// and it fits in 64 bits; nullopt otherwise: no sign, no blanks, no prefix or suffix.
std::optional<std::uint64_t> parse_unsigned(std::string_view text);

}  // namespace kp::text
