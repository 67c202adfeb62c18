#pragma once
// The `id:` of a Server-Sent Events stream (PROTOCOL.md section 6): the position of the stream
// after an event, `<epoch>_<o1>_<o2>…`, the store's epoch then one offset per channel of the
// query, in its order. The browser sends the last one back as `Last-Event-ID` when it
// reconnects. Socket-free.
//
// A channel whose `subscribed` event was not sent yet when the id was written (another
// channel's events may come first) carries the offset the request asked for it, or nothing
// (`9f2c61d0_41__7`): resuming with that id asks for that channel what the first request did.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kp::server {

class sse_event_id {
public:
    // Longer ids are not ours (an epoch of up to 64 characters, 20 digits and a separator per
    // channel, for more channels than any stream may have).
    static constexpr std::size_t max_length = 16 * 1024;

    struct position {
        std::string epoch;
        std::vector<std::optional<std::uint64_t>> offsets;   // one per channel; nullopt: none yet
    };

    // The position in `text` when it is an id of a stream of `channels` channels; nullopt when
    // it is not one of ours (garbage, too long, another number of offsets).
    static std::optional<position> parse(std::string_view text, std::size_t channels);

    // Appends the id of `epoch` and `offsets` to `out`.
    static void append(std::string& out, std::string_view epoch, std::span<std::optional<std::uint64_t> const> offsets);
};

}  // namespace kp::server
