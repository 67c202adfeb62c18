#include "websocket/frame_reader.hpp"

#include "websocket/close_code.hpp"
#include "websocket/message_inflater.hpp"
#include "websocket/utf8_validator.hpp"

#include <cstring>

namespace kp::websocket {

namespace {

void unmask(char* data, std::size_t size, unsigned char const key[4]) {
    std::uint32_t key32;
    std::memcpy(&key32, key, 4);
    std::uint64_t const key64 = (static_cast<std::uint64_t>(key32) << 32) | key32;
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, data + i, 8);
        word ^= key64;
        std::memcpy(data + i, &word, 8);
    }
    for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ key[i % 4]);
}

// Codes a peer may send in a close frame (RFC 6455 section 7.4, and the IANA registry).
bool valid_close_code(std::uint16_t code) {
    if (code >= 3000 && code <= 4999) return true;
    switch (code) {
    case 1000: case 1001: case 1002: case 1003: case 1007: case 1008: case 1009: case 1010: case 1011:
    case 1012: case 1013: case 1014:
        return true;
    default:
        return false;
    }
}

}  // namespace

frame_reader::result frame_reader::fail(std::uint16_t code, std::string_view why) {
    result r;
    r.event.what = frame_event::kind::error;
    r.event.code = code;
    r.event.payload = why;
    return r;
}

frame_reader::result frame_reader::read(std::span<char> data) {
    wanted_ = 2;
    if (data.size() < 2) return {};
    auto const b0 = static_cast<unsigned char>(data[0]);
    auto const b1 = static_cast<unsigned char>(data[1]);
    bool const fin = b0 & 0x80;
    auto const op = static_cast<opcode>(b0 & 0x0F);
    bool const rsv1 = b0 & 0x40;
    if (b0 & 0x30) return fail(close_code::protocol_error, "reserved bits RSV2/RSV3 set (no extension uses them)");
    if (rsv1 && !deflate_) return fail(close_code::protocol_error, "reserved bits set (no extension was negotiated)");
    if (!(b1 & 0x80)) return fail(close_code::protocol_error, "client frames must be masked");

    std::size_t const length_bytes = (b1 & 0x7F) == 126 ? 2 : (b1 & 0x7F) == 127 ? 8 : 0;
    std::size_t const header = 2 + length_bytes + 4;
    if (data.size() < header) {
        wanted_ = header;
        return {};
    }
    std::uint64_t length = b1 & 0x7F;
    if (length_bytes) {
        length = 0;
        for (std::size_t i = 0; i < length_bytes; ++i) length = (length << 8) | static_cast<unsigned char>(data[2 + i]);
        if (length_bytes == 2 && length < 126) return fail(close_code::protocol_error, "length not in its shortest form");
        if (length_bytes == 8 && (length >> 63)) return fail(close_code::protocol_error, "length over 2^63");
        if (length_bytes == 8 && length <= 0xFFFF) return fail(close_code::protocol_error, "length not in its shortest form");
    }

    bool const control = static_cast<std::uint8_t>(op) & 0x8;
    if (control) {
        if (op != opcode::close && op != opcode::ping && op != opcode::pong)
            return fail(close_code::protocol_error, "unknown control opcode");
        if (!fin) return fail(close_code::protocol_error, "fragmented control frame");
        if (length > 125) return fail(close_code::protocol_error, "control frame over 125 bytes");
        if (rsv1) return fail(close_code::protocol_error, "RSV1 set on a control frame (never compressed)");
    } else {
        if (op != opcode::continuation && op != opcode::text && op != opcode::binary)
            return fail(close_code::protocol_error, "unknown data opcode");
        if (op == opcode::continuation && !in_message_)
            return fail(close_code::protocol_error, "continuation frame without a message");
        if (op != opcode::continuation && in_message_)
            return fail(close_code::protocol_error, "new message before the previous one ended");
        if (rsv1 && op == opcode::continuation)
            return fail(close_code::protocol_error, "RSV1 set on a continuation frame (only the first frame has it)");
        std::uint64_t const so_far = op == opcode::continuation ? fragments_.size() : 0;
        if (length > max_message_ || so_far + length > max_message_)
            return fail(close_code::too_big, "message too big");
    }
    if (data.size() - header < length) {
        wanted_ = header + static_cast<std::size_t>(length);
        return {};
    }

    char* const payload = data.data() + header;
    auto const size = static_cast<std::size_t>(length);
    unmask(payload, size, reinterpret_cast<unsigned char const*>(data.data() + 2 + length_bytes));
    result r;
    r.consumed = header + size;
    std::string_view const bytes(payload, size);

    if (control) {
        if (op == opcode::ping) {
            r.event.what = frame_event::kind::ping;
            r.event.payload = bytes;
        } else if (op == opcode::pong) {
            r.event.what = frame_event::kind::pong;
            r.event.payload = bytes;
        } else {
            r.event.what = frame_event::kind::close;
            if (size == 0) {
                r.event.code = close_code::no_status;
            } else if (size == 1) {
                return fail(close_code::protocol_error, "close frame with a one-byte payload");
            } else {
                r.event.code = static_cast<std::uint16_t>((static_cast<unsigned char>(bytes[0]) << 8) |
                                                          static_cast<unsigned char>(bytes[1]));
                if (!valid_close_code(r.event.code)) return fail(close_code::protocol_error, "invalid close code");
                r.event.payload = bytes.substr(2);
                if (!valid_utf8(r.event.payload)) return fail(close_code::invalid_payload, "close reason is not UTF-8");
            }
        }
        return r;
    }

    std::string_view message;
    opcode message_op = op;
    bool compressed = rsv1;
    if (op == opcode::continuation) {
        fragments_.append(bytes);
        if (!fin) return r;
        in_message_ = false;
        message = fragments_;
        message_op = message_op_;
        compressed = compressed_;
    } else if (!fin) {
        in_message_ = true;
        message_op_ = op;
        compressed_ = rsv1;
        fragments_.assign(bytes);
        return r;
    } else {
        message = bytes;
    }
    if (compressed) {
        auto const inflated = message_inflater::inflate(message, max_message_);
        if (inflated.what == message_inflater::status::too_big)
            return fail(close_code::too_big, "message too big once inflated");
        if (inflated.what == message_inflater::status::invalid)
            return fail(close_code::invalid_payload, "invalid compressed data (permessage-deflate)");
        message = inflated.text;
    }
    if (message_op == opcode::text) {
        if (!valid_utf8(message)) return fail(close_code::invalid_payload, "text message is not UTF-8");
        r.event.what = frame_event::kind::text;
    } else {
        r.event.what = frame_event::kind::binary;
    }
    r.event.payload = message;
    return r;
}

}  // namespace kp::websocket
