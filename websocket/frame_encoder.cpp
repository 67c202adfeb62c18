#include "websocket/frame_encoder.hpp"

namespace kp::websocket {

std::string frame_header(opcode op, std::size_t payload_size, bool compressed) {
    std::string header;
    header.reserve(10);
    header += static_cast<char>(0x80 | (compressed ? 0x40 : 0) | static_cast<std::uint8_t>(op));   // FIN, RSV1
    if (payload_size < 126) {
        header += static_cast<char>(payload_size);
    } else if (payload_size <= 0xFFFF) {
        header += static_cast<char>(126);
        header += static_cast<char>((payload_size >> 8) & 0xFF);
        header += static_cast<char>(payload_size & 0xFF);
    } else {
        header += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8)
            header += static_cast<char>((static_cast<std::uint64_t>(payload_size) >> shift) & 0xFF);
    }
    return header;
}

std::string encode_frame(opcode op, std::string_view payload) {
    std::string frame = frame_header(op, payload.size());
    frame.append(payload);
    return frame;
}

std::string encode_close(std::uint16_t code, std::string_view reason) {
    constexpr std::size_t max_reason = 123;   // 125 bytes of control payload, 2 of them the code
    if (reason.size() > max_reason) {
        std::size_t cut = max_reason;
        // Never cut inside a UTF-8 sequence: back up over continuation bytes.
        while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
        reason = reason.substr(0, cut);
    }
    std::string payload;
    payload += static_cast<char>((code >> 8) & 0xFF);
    payload += static_cast<char>(code & 0xFF);
    payload.append(reason);
    return encode_frame(opcode::close, payload);
}

}  // namespace kp::websocket
