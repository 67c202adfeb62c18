#pragma once
// What a GET /v1/sse stream knows apart from its socket (sse_session): its channels in the
// query's order; until it starts, how many subscribes were answered and the first refusal;
// then the epoch and, per channel, the position its `id:` lines carry (sse_event_id).
// Socket-free.
//
// A channel's position is what the request asked for it (sse_request::asked) until its
// `subscribed` is sent, then where its subscription started, then its last event's offset.

#include "server/sse/sse_request.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kp::server {

class sse_stream_state {
public:
    // An HTTP error instead of the stream.
    struct refusal {
        unsigned status = 0;
        int errno_value = 0;
        std::string message;
    };

    sse_stream_state() = default;
    // The stream `request` asks for: its channels, each at the position it asked.
    explicit sse_stream_state(sse_request const& request);

    std::vector<std::string> const& channels() const { return channels_; }
    std::vector<std::optional<std::uint64_t>> const& positions() const { return positions_; }
    std::string const& epoch() const { return epoch_; }
    // The first refusal before the stream started, if any.
    std::optional<refusal> const& refused() const { return refusal_; }
    // Every subscribe has its answer, or one refusal came: the stream starts or is refused.
    bool decided() const { return answered_ >= channels_.size() || refusal_.has_value(); }

    // The core's `subscribed` for `channel`, whose subscription starts at `start`; the first
    // one's epoch is the stream's.
    void subscribed(std::string const& channel, std::string const& epoch, std::optional<std::uint64_t> start);
    // The core's `error` reply (PROTOCOL.md section 3's `code`) to the next subscribe not yet
    // answered: the first refuses the stream, naming that channel. Ignored once all are answered.
    void subscribe_failed(std::string_view code, std::string_view message);
    // The connection closes before the stream starts (a close code of session/close_code.hpp):
    // 401 when unauthorized, else 503; the first refusal stays.
    void closed_before_start(std::uint16_t close_code, std::string_view reason);

    // An event of `channel` at `offset` was queued: that channel's position moves.
    void moved(std::string_view channel, std::uint64_t offset);
    // `id: <epoch>_<o1>_<o2>…` and the blank line that end an event.
    std::string id_lines() const;

private:
    std::vector<std::string> channels_;
    std::vector<std::optional<std::uint64_t>> positions_;
    std::string epoch_;
    std::size_t answered_ = 0;
    std::optional<refusal> refusal_;
};

}  // namespace kp::server
