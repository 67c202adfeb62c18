#pragma once
// permessage-deflate's compression of one message (RFC 7692 section 7.2.1), as this server
// sends it: raw DEFLATE with a 32 KiB window, each message compressed on its own (no context
// taken over, so one compressed frame serves every connection that negotiated the extension),
// the final `00 00 ff ff` of the flush removed.
//
// Each thread keeps one z_stream, reset for every message: nothing is kept per connection or
// per message. Thread-safe (the state is thread_local).

#include "websocket/frame_encoder.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace kp::websocket {

class message_deflater {
public:
    // Messages shorter than this go uncompressed (RSV1 clear): below it, compressing saves a
    // few bytes for the CPU of a deflate (measured: bench/deflate, docs/benchmarks.md).
    static constexpr std::size_t threshold = 256;
    // zlib's level: see docs/benchmarks.md for the sizes and times of the others.
    static constexpr int level = 6;

    // `payload` compressed on its own, without the trailing 00 00 ff ff.
    static std::string deflate(std::string_view payload, int zlib_level = level);

    // A whole unfragmented frame (FIN and RSV1 set) carrying `payload` compressed, or an empty
    // string when the frame should go plain: `payload` is under the threshold, or compressed
    // it would not be smaller.
    static std::string encode_frame(opcode op, std::string_view payload);
};

}  // namespace kp::websocket
