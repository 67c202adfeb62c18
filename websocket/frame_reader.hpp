#pragma once
// Reads client-to-server WebSocket frames (RFC 6455 section 5) from a byte buffer, one event at
// a time: a whole text or binary message (fragments assembled), a ping, a pong, a close, or a
// protocol error with the close code to answer. Frames are unmasked in place; an unfragmented
// message is handed back as a view into the caller's buffer, without a copy.
//
// Limits are checked on the header, before the payload is buffered: a message over
// `max_message` bytes is refused (1009) as soon as its length is known.
//
// permessage-deflate (RFC 7692), once accept_deflate() was called: RSV1 on the first frame of
// a data message marks it compressed; the whole message is inflated (message_inflater) within
// the same `max_message` bytes (past them: 1009) before its UTF-8 is checked; data that does
// not inflate is 1007. RSV1 on a continuation or a control frame, or without the extension,
// is a protocol error (1002); so are RSV2 and RSV3.

#include "websocket/frame_encoder.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kp::websocket {

struct frame_event {
    enum class kind { none, text, binary, ping, pong, close, error };
    kind what = kind::none;
    // text/binary: the message; ping/pong: their payload; close: the reason; error: why.
    // Valid until the next call to read() (an inflated message: until the thread's next
    // read() of a compressed message, by any reader).
    std::string_view payload;
    // close: the peer's code (1005 when it sent none); error: the code to close with.
    std::uint16_t code = 0;
};

class frame_reader {
public:
    explicit frame_reader(std::size_t max_message) : max_message_(max_message) {}

    struct result {
        std::size_t consumed = 0;   // bytes to drop from the front of the buffer
        frame_event event;          // none: nothing complete yet (more bytes, or the next frame)
    };

    // Reads at most one frame from the front of `data`, unmasking it in place. When nothing
    // was consumed and the event is none, the buffer holds less than a frame: read more.
    // After an error, the connection must be closed; the reader is not usable any more.
    result read(std::span<char> data);

    // How many bytes the buffer must hold for the next call to make progress.
    std::size_t wanted() const { return wanted_; }

    // permessage-deflate was negotiated: compressed messages (RSV1) are read from now on.
    void accept_deflate() { deflate_ = true; }

private:
    result fail(std::uint16_t code, std::string_view why);

    std::size_t max_message_;
    std::size_t wanted_ = 2;
    bool in_message_ = false;      // a fragmented message has started
    bool deflate_ = false;         // permessage-deflate negotiated
    bool compressed_ = false;      // the fragmented message started with RSV1
    opcode message_op_ = opcode::text;
    std::string fragments_;        // the fragments received so far
};

}  // namespace kp::websocket
