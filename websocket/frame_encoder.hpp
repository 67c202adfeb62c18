#pragma once
// Server-to-client WebSocket frames (RFC 6455 section 5.2), encoded once: a server frame is
// never masked, so the same bytes go to every connection. A message built once can therefore
// be written to thousands of sockets, several frames per system call, with no per-connection
// work but the write.

#include <cstdint>
#include <string>
#include <string_view>

namespace kp::websocket {

enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// The header of an unfragmented, unmasked frame carrying `payload_size` bytes (2, 4 or 10 bytes);
// `compressed`: RSV1 set, the payload is a permessage-deflate message (message_deflater).
std::string frame_header(opcode op, std::size_t payload_size, bool compressed = false);

// A whole frame: header then payload.
std::string encode_frame(opcode op, std::string_view payload);

// A close frame: the code, then the reason cut to what a control frame holds (123 bytes, on a
// UTF-8 character boundary).
std::string encode_close(std::uint16_t code, std::string_view reason);

}  // namespace kp::websocket
