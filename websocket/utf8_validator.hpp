#pragma once
// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF. Text messages and close reasons must pass it (RFC 6455 section 8.1).

#include <string_view>

namespace kp::websocket {

bool valid_utf8(std::string_view text);

}  // namespace kp::websocket
