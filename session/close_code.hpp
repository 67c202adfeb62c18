#pragma once
// The close codes kinto-push sends (SSE streams name them in their error events): RFC 6455's,
// and the application codes of PROTOCOL.md section 3.

#include "websocket/close_code.hpp"

#include <cstdint>

namespace kp::session::close_code {

using namespace kp::websocket::close_code;

constexpr std::uint16_t protocol_violation = 4000;
constexpr std::uint16_t unauthorized = 4001;
constexpr std::uint16_t too_slow = 4008;
constexpr std::uint16_t too_many_connections = 4029;

}  // namespace kp::session::close_code
