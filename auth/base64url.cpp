#include "auth/base64url.hpp"

#include "text/base64.hpp"

namespace kp::auth {

std::string base64url::encode(std::string_view bytes) {
    return text::base64_encode(bytes, text::base64_alphabet::url, false);
}

std::optional<std::string> base64url::decode(std::string_view text) {
    return text::base64_decode_digits(text, text::base64_alphabet::url);
}

}  // namespace kp::auth
