#pragma once
// permessage-deflate's decompression of one client message (RFC 7692 section 7.2.2): the
// message's raw DEFLATE data with `00 00 ff ff` appended, inflated with a 32 KiB window (which
// reads data compressed with any window up to it), into at most `limit` bytes.
//
// The client was told client_no_context_takeover, so no state is kept between messages: each
// thread keeps one z_stream, reset for every message, and one output buffer. A connection
// keeps nothing. Inflating stops as soon as the output would pass `limit`: a decompression
// bomb costs at most `limit` bytes of work and memory.

#include <cstddef>
#include <string_view>

namespace kp::websocket {

class message_inflater {
public:
    enum class status { ok, too_big, invalid };

    struct result {
        status what = status::ok;
        // ok: the message, in the thread's buffer: valid until the thread's next inflate().
        std::string_view text;
    };

    static result inflate(std::string_view compressed, std::size_t limit);
};

}  // namespace kp::websocket
