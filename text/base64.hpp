#pragma once
// The standard base64 alphabet of RFC 4648 section 4, with '=' padding: Standard Webhooks'
// secrets ("whsec_<base64>") and signatures ("v1,<base64>").
//
// base64_decode() is strict so that one value has exactly one spelling: it refuses a length
// that is not a multiple of 4, missing or misplaced '=', the URL-safe alphabet's '-' and '_',
// whitespace, and unused trailing bits that are not zero. (auth/base64url is the unpadded
// URL-safe variant of JWS.)

#include <optional>
#include <string>
#include <string_view>

namespace kp::text {

// Bytes to text, padded with '=' to a multiple of 4 characters.
std::string base64_encode(std::string_view bytes);

// Text to bytes; nullopt when `text` is not canonical padded base64 ("" decodes to "").
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kp::text
