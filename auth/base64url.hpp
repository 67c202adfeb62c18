#pragma once
// The URL-safe base64 alphabet of RFC 4648 section 5 without padding, as JWS (RFC 7515) uses it.
//
// decode() is strict so that one token has exactly one spelling: it refuses '=' padding, the
// standard alphabet's '+' and '/', whitespace, a length of 4n+1, and unused trailing bits that
// are not zero. Without that last rule "...Q" and "...R" could decode to the same signature.

#include <optional>
#include <string>
#include <string_view>

namespace kp::auth {

class base64url {
public:
    // Bytes to text, without padding.
    static std::string encode(std::string_view bytes);

    // Text to bytes; nullopt when `text` is not canonical unpadded base64url ("" decodes to "").
    static std::optional<std::string> decode(std::string_view text);
};

}  // namespace kp::auth
