#pragma once
// The close codes of RFC 6455 (section 7.4.1) this project sends or reads.

#include <cstdint>

namespace kp::websocket::close_code {

constexpr std::uint16_t normal = 1000;
constexpr std::uint16_t going_away = 1001;
constexpr std::uint16_t protocol_error = 1002;
constexpr std::uint16_t no_status = 1005;   // never sent: "the close frame had no code"
constexpr std::uint16_t invalid_payload = 1007;
constexpr std::uint16_t too_big = 1009;
constexpr std::uint16_t internal_error = 1011;

}  // namespace kp::websocket::close_code
