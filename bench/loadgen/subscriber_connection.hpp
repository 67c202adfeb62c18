#pragma once
// One subscriber: a connection from a chosen loopback source address to one channel, over a
// transport (ws_subscriber: WebSocket, optionally with permessage-deflate; sse_subscriber:
// Server-Sent Events). This base connects the TCP socket and keeps what every transport shares:
// the subscriber's state, each bench event timed (publish to receipt) and its sequence number
// recorded, and on kinto-push the channel's position, so that it can come back with `since` and
// check the replay's offsets. The transport reads its frames or events and hands them over
// decoded (handle()).
// Lives on one client thread; every method is called on that thread.

#include "bench/loadgen/http_base_url.hpp"
#include "bench/loadgen/sequence_tracker.hpp"
#include "bench/loadgen/subscriber_stats.hpp"
#include "bench/loadgen/target_protocol.hpp"
#include "bench/loadgen/wire_counters.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kp::loadgen {

class subscriber_connection : public std::enable_shared_from_this<subscriber_connection> {
public:
    struct plan {
        std::uint32_t channel_index = 0;
        std::string channel;
        boost::asio::ip::address_v4 source;
    };

    subscriber_connection(boost::asio::io_context& io, plan p, target_protocol const& protocol,
                          http_base_url const& url, subscriber_stats& stats);
    virtual ~subscriber_connection() = default;

    // Connects and subscribes (from `since` when given); `done(true)` once subscribed.
    void open(std::optional<resume_position> since, std::function<void(bool)> done);
    // A normal close; `done` runs once the connection is gone.
    void close(std::function<void()> done);

    // Starts counting the events of step `step` (sequence numbers 1..max_seq).
    void track(std::uint32_t step, std::uint64_t max_seq);
    sequence_tracker const& tracker() const { return tracker_; }
    plan const& where() const { return plan_; }
    bool is_open() const { return state_ == state::live; }
    // kinto-push: the channel's position (subscribed offset, then each event's offset)
    std::optional<resume_position> const& position() const { return position_; }
    // resume: the offset the replay must reach, and whether it did
    std::uint64_t replay_target() const { return replay_target_; }
    bool replay_complete() const { return replay_done_; }
    // What the socket received so far (TCP payload bytes, segments); zero when not connected.
    wire_counters wire() const;

protected:
    enum class state { idle, opening, live, closing, closed };

    // The socket is connected: upgrade or request, then read until the connection ends.
    virtual void start(boost::asio::ip::tcp::socket socket, std::optional<resume_position> since) = 0;
    // The state is `closing`: end the connection; its reads end with read_ended().
    virtual void shut() = 0;
    // Closes the socket at once.
    virtual void close_socket() = 0;

    // For the transport: a frame or event decoded by the protocol; the end of the reads.
    void handle(received_frame const& f);
    void read_ended();
    void fail_open();
    void on_subscribed();

    state current() const { return state_; }
    bool reading() const { return state_ == state::opening || state_ == state::live || state_ == state::closing; }

    boost::asio::io_context& io_;
    plan plan_;
    target_protocol const& protocol_;
    http_base_url const& url_;
    subscriber_stats& stats_;

private:
    void on_event(received_frame const& f, std::uint64_t now);
    void finish_close();
    void drop_socket();   // closes the socket, connecting or connected

    state state_ = state::idle;
    int fd_ = -1;   // the connected socket's descriptor, for wire(); -1 before and after
    std::shared_ptr<boost::asio::ip::tcp::socket> connecting_;   // until connected
    boost::asio::steady_timer open_timer_{io_};
    std::function<void(bool)> open_done_;
    std::function<void()> close_done_;
    std::uint64_t open_started_ns_ = 0;

    sequence_tracker tracker_;
    std::uint32_t step_ = 0;

    std::optional<resume_position> position_;
    bool resuming_ = false;
    std::uint64_t replay_target_ = 0;
    bool replay_done_ = false;
};

}  // namespace kp::loadgen
