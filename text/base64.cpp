#include "text/base64.hpp"

#include <array>
#include <cstdint>

namespace kp::text {

namespace {

constexpr char standard_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_values(char const* digits) {
    std::array<std::int8_t, 256> values{};
    for (auto& v : values)
        v = -1;
    for (int i = 0; i < 64; ++i)
        values[static_cast<unsigned char>(digits[i])] = static_cast<std::int8_t>(i);
    return values;
}

constexpr std::array<std::int8_t, 256> standard_values = make_values(standard_digits);
constexpr std::array<std::int8_t, 256> url_values = make_values(url_digits);

}  // namespace

std::string base64_encode(std::string_view bytes, base64_alphabet alphabet, bool pad) {
    char const* const digits = alphabet == base64_alphabet::standard ? standard_digits : url_digits;
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    auto byte = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
    };
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t const n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += digits[(n >> 18) & 63];
        out += digits[(n >> 12) & 63];
        out += digits[(n >> 6) & 63];
        out += digits[n & 63];
    }
    std::size_t const rest = bytes.size() - i;
    if (rest == 1) {
        std::uint32_t const n = byte(i) << 16;
        out += digits[(n >> 18) & 63];
        out += digits[(n >> 12) & 63];
        if (pad) out += "==";
    } else if (rest == 2) {
        std::uint32_t const n = (byte(i) << 16) | (byte(i + 1) << 8);
        out += digits[(n >> 18) & 63];
        out += digits[(n >> 12) & 63];
        out += digits[(n >> 6) & 63];
        if (pad) out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode_digits(std::string_view digits, base64_alphabet alphabet) {
    // 4n+1 digits carry 6 bits of a byte that never ends: no encoder produces them.
    if (digits.size() % 4 == 1) return std::nullopt;
    auto const& values = alphabet == base64_alphabet::standard ? standard_values : url_values;
    std::string out;
    out.reserve(digits.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : digits) {
        std::int8_t const v = values[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;   // also '=' among the digits
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    // The bits left over pad the last digit: canonical encoders leave them zero.
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    // Padding: at most two '=', only at the very end (a third, or one before, is not a digit).
    std::size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=')
        ++padding;
    return base64_decode_digits(text.substr(0, text.size() - padding), base64_alphabet::standard);
}

}  // namespace kp::text
