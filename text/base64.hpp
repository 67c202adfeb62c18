#pragma once
// The standard base64 alphabet of RFC 4648 section 4, with '=' padding: Standard Webhooks'
// secrets ("whsec_<base64>") and signatures ("v1,<base64>").
//
// base64_decode() is strict so that one value has exactly one spelling: it refuses a length
// that is not a multiple of 4, missing or misplaced '=', the URL-safe alphabet's '-' and '_',
// whitespace, and unused trailing bits that are not zero. (auth/base64url, the unpadded
// URL-safe variant of JWS, is built on the same functions.)

#include <optional>
#include <string>
#include <string_view>

namespace kp::text {

// The standard alphabet ('+', '/'), or the URL-safe one of section 5 ('-', '_'; JWS).
enum class base64_alphabet { standard, url };

// Bytes to text, padded with '=' to a multiple of 4 characters unless `pad` is false.
std::string base64_encode(std::string_view bytes, base64_alphabet alphabet = base64_alphabet::standard, bool pad = true);

// Text to bytes; nullopt when `text` is not canonical padded base64 ("" decodes to "").
std::optional<std::string> base64_decode(std::string_view text);
// The digits alone, without padding, in `alphabet`: nullopt for any other character, a length
// of 4n+1, or unused trailing bits that are not zero (the core of both decoders).
std::optional<std::string> base64_decode_digits(std::string_view digits, base64_alphabet alphabet);

}  // namespace kp::text
