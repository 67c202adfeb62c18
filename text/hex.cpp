#include "text/hex.hpp"

namespace kp::text {

std::string hex_encode(std::string_view bytes) {
    constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char ch : bytes) {
        auto b = static_cast<unsigned char>(ch);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

namespace {

// The digit's value, or a value with bit 8 set when `c` is not a digit; no branch on `c`.
unsigned nibble(unsigned char c) {
    unsigned const u = c;
    unsigned const is_digit = ((u - '0') <= 9u) ? 1u : 0u;
    unsigned const lower = u | 0x20u;
    unsigned const is_alpha = ((lower - 'a') <= 5u) ? 1u : 0u;
    unsigned const value = is_digit * (u - '0') + is_alpha * (lower - 'a' + 10u);
    return value | ((1u - (is_digit | is_alpha)) << 8);
}

}  // namespace

std::optional<std::string> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    std::string out(text.size() / 2, '\0');
    unsigned bad = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        unsigned hi = nibble(static_cast<unsigned char>(text[2 * i]));
        unsigned lo = nibble(static_cast<unsigned char>(text[2 * i + 1]));
        bad |= (hi | lo) & 0x100u;
        out[i] = static_cast<char>(((hi & 15u) << 4) | (lo & 15u));
    }
    if (bad != 0) return std::nullopt;
    return out;
}

}  // namespace kp::text
