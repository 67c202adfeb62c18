#pragma once
// The frames waiting to be written to one connection, counted in bytes, the frames of the
// write in flight at the front. Socket-free: the transport takes a write's frames with
// start_write(), sends them, and calls written(). Shared by every transport and endpoint.
//
// The 4008 rule ("too slow") is judged here: a reply that takes the queue over its limit, or
// a new published transaction that finds it over the limit (judged once per transaction, so
// that one large transaction never closes a client that keeps reading). Replay paces itself
// below the limit (session_core), so it never trips it.

#include "metrics/gauge.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace kp::session {

using frame_ptr = std::shared_ptr<std::string const>;

class send_queue {
public:
    // `bytes_gauge` (may be null) follows the bytes queued, over every connection.
    send_queue(std::size_t limit, metrics::gauge* bytes_gauge);
    ~send_queue();
    send_queue(send_queue const&) = delete;
    send_queue& operator=(send_queue const&) = delete;

    std::size_t limit() const { return limit_; }
    std::size_t bytes() const { return bytes_; }
    bool over_limit() const { return bytes_ > limit_; }
    bool empty() const { return frames_.empty(); }
    bool writing() const { return in_flight_ > 0; }
    // Frames queued and not in the write in flight.
    bool has_unsent() const { return frames_.size() > in_flight_; }
    // False once sealed: nothing more is queued after the last frame.
    bool open() const { return !sealed_; }

    // Queues a frame (ignored once sealed). Returns over_limit().
    bool push(frame_ptr frame);
    // True when the published transaction `batch` is a new one and the queue is over its
    // limit: the connection is too slow (4008).
    bool too_slow_for_batch(std::uint64_t batch);

    // Drops every frame not in flight (the client resumes from its last offset), queues
    // `last` (a close frame, an SSE error; may be null) and takes nothing more.
    void seal(frame_ptr last);

    // Marks up to `max` frames from the front as the write in flight and calls `each` with
    // each of them, in order; returns how many.
    template <class Each>
    std::size_t start_write(std::size_t max, Each&& each) {
        in_flight_ = frames_.size() < max ? frames_.size() : max;
        for (std::size_t i = 0; i < in_flight_; ++i) each(*frames_[i]);
        return in_flight_;
    }
    // The write in flight is done (or failed): its frames leave the queue.
    void written();

private:
    void count(std::int64_t delta);

    std::size_t limit_;
    metrics::gauge* gauge_;
    std::deque<frame_ptr> frames_;
    std::size_t bytes_ = 0;
    std::size_t in_flight_ = 0;
    std::uint64_t last_batch_ = 0;
    bool sealed_ = false;
};

}  // namespace kp::session
