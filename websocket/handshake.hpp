#pragma once
// The server side of the opening handshake (RFC 6455 section 4.2).

#include <string>
#include <string_view>

namespace kp::websocket {

// True when `key` is a valid Sec-WebSocket-Key: 16 bytes in base64 (24 characters).
bool valid_client_key(std::string_view key);

// The Sec-WebSocket-Accept value answering `key`: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view key);

}  // namespace kp::websocket
