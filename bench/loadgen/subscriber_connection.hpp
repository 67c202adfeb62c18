#pragma once
// One subscriber: a WebSocket connection from a chosen loopback source address to one channel.
// It connects, upgrades, subscribes, then reads frames until closed; each bench event is
// timed (publish to receipt) and its sequence number recorded. On kinto-push it also keeps the
// channel's position, so that it can come back with `since` and check the replay's offsets.
// Lives on one client thread; every method is called on that thread.

#include "bench/loadgen/http_base_url.hpp"
#include "bench/loadgen/sequence_tracker.hpp"
#include "bench/loadgen/subscriber_stats.hpp"
#include "bench/loadgen/target_protocol.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

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
        bool deflate = false;   // offer permessage-deflate
    };

    subscriber_connection(boost::asio::io_context& io, plan p, target_protocol const& protocol,
                          http_base_url const& url, subscriber_stats& stats);

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

private:
    using websocket_stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;
    enum class state { idle, opening, live, closing, closed };

    void fail_open();
    void on_subscribed();
    void read_next();
    void on_frame(std::string_view frame);
    void on_event(received_frame const& f, std::uint64_t now);
    void finish_close();

    boost::asio::io_context& io_;
    plan plan_;
    target_protocol const& protocol_;
    http_base_url const& url_;
    subscriber_stats& stats_;

    std::unique_ptr<websocket_stream> ws_;
    boost::beast::flat_buffer buffer_;
    std::string outgoing_;
    state state_ = state::idle;
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
