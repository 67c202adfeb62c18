#pragma once
// One WebSocket client (PROTOCOL.md section 3): its subscriptions, their replay, and a
// byte-capped send queue with one write in flight. Lives on one shard and touches nothing
// else's state, so it has no lock.
//
// The WebSocket wire protocol is the project's own (websocket/): frames of published events
// are encoded once for every connection, several queued frames go out in one system call,
// the read buffer starts small and grows only for a large message, and the keep-alive is
// driven by the shard's sweep (tick) rather than a timer per connection.

#include "channels/message.hpp"
#include "channels/subscriber.hpp"
#include "server/ws/client_frame.hpp"
#include "server/closeable.hpp"
#include "server/server_context.hpp"
#include "server/shard.hpp"
#include "server/access/subscriber_access.hpp"
#include "server/access/subscriber_identity.hpp"
#include "websocket/frame_reader.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <optional>
#include <unordered_map>
#include <vector>

namespace kp::server {

//
// `Stream` is the transport under the WebSocket: beast::tcp_stream (ws://) or
// beast::ssl_stream<beast::tcp_stream> (wss://); both are instantiated in the .cpp.
template <class Stream>
class websocket_session : public std::enable_shared_from_this<websocket_session<Stream>>,
                          public channels::subscriber,
                          public closeable {
public:
    // `tls` keeps the TLS context alive as long as the stream that uses it (null for ws://).
    websocket_session(Stream&& stream, shard& owner, server_context& context,
                      std::shared_ptr<boost::asio::ssl::context> tls = {});
    ~websocket_session() override;

    // Accepts the upgrade request read by the HTTP session.
    void run(boost::beast::http::request<boost::beast::http::string_body> request);

    void deliver(channels::message_ptr const& m, std::uint64_t batch) override;
    void shutdown() override;
    void tick(std::chrono::steady_clock::time_point now) override;
    void history_lost() override;

private:
    using frame_ptr = std::shared_ptr<std::string const>;

    // Per channel: the last offset sent, and whether the history is still being replayed
    // (live messages are then ignored: the replay reads up to the head).
    struct subscription {
        std::uint64_t sent = 0;
        bool replaying = false;
        bool loading = false;   // a page is being read from disk on the blocking pool
        // The replay page read last, and how much of it is queued: a page is read whole but
        // queued only up to the low-water mark; the rest goes first at the next pump instead
        // of being read and framed again (within page_bytes_'s budget).
        std::vector<channels::message_ptr> page;
        std::size_t queued_of_page = 0;
    };

    void refuse_upgrade(unsigned status, std::string const& message);
    void on_accept(boost::beast::error_code ec);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void handle_event(websocket::frame_event const& event);
    void handle_frame(std::string_view text);
    void handle_subscribe(client_frame::subscribe request);
    void handle_unsubscribe(client_frame::unsubscribe const& request);
    void handle_auth(client_frame::auth const& request);
    void watch_expiry();

    // A subscribe waiting for its authorization, then granted.
    void on_authorized(client_frame::subscribe const& request, std::uint64_t hold, access_decision decision);
    // A subscribe `since: {timestamp}` whose position the store cannot give from memory: asked
    // on the blocking pool (the disk, or Redis), the channel pending meanwhile.
    void locate_timestamp(client_frame::subscribe request);
    void start_subscription(client_frame::subscribe const& request,
                            std::optional<store::timestamp_position> located = std::nullopt);
    void reply(nlohmann::ordered_json frame, nlohmann::ordered_json const& id);
    void reply_error(nlohmann::ordered_json const& id, char const* code, std::string const& message);

    void enqueue(frame_ptr frame, bool capped = true);
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void pump_replay();
    void read_from_disk(std::string const& channel, std::uint64_t after);
    void on_disk_page(std::string const& channel, std::uint64_t after, std::vector<channels::message_ptr> page,
                      bool failed);
    // Makes `page` the subscription's replay page and queues it (up to `max_queued_bytes` in
    // the send queue); false (connection closing) when it does not follow on from `sub.sent`.
    bool take_page(subscription& sub, std::vector<channels::message_ptr> page, std::size_t max_queued_bytes);
    // Queues what is left of the replay page, while the send queue holds less than `max_queued_bytes`.
    void queue_page(subscription& sub, std::size_t max_queued_bytes);
    // Drops the end of the page's unqueued rest until every page of this connection holds at
    // most `budget` bytes not yet queued (what is dropped is read again later).
    void keep_page_within(subscription& sub, std::size_t budget);
    void forget_page(subscription& sub);
    void count_read_ahead(std::int64_t bytes);   // page_bytes_ and its gauge, together

    void close_with(std::uint16_t code, std::string const& reason);
    // After our close frame: stop sending and read (discarding, bounded) until the peer closes.
    void start_draining();
    // Ends the TCP connection now.
    void drop();
    void leave_all();

    using std::enable_shared_from_this<websocket_session<Stream>>::shared_from_this;

    std::shared_ptr<boost::asio::ssl::context> tls_;
    Stream stream_;
    shard& shard_;
    server_context& context_;
    boost::beast::flat_buffer buffer_;
    websocket::frame_reader reader_;
    std::unique_ptr<boost::beast::http::response<boost::beast::http::string_body>> handshake_;
    // The credentials' end (JWT exp): made when a token with an expiry arrives, so that the
    // connections without one do not each carry an idle timer.
    std::unique_ptr<boost::asio::steady_timer> expiry_;
    void cancel_expiry() {
        if (expiry_) expiry_->cancel();
    }
    subscriber_identity identity_;
    bool refused_ = false;               // invalid credentials in the upgrade
    // Channels waiting for their authorization or their timestamp's position, each with the
    // number of its hold: an answer for a subscribe since unsubscribed (and perhaps subscribed
    // again) finds another number, and is dropped.
    std::unordered_map<std::string, std::uint64_t> pending_;
    std::uint64_t holds_ = 0;
    std::uint64_t hold(std::string const& channel) { return pending_[channel] = ++holds_; }
    bool release(std::string const& channel, std::uint64_t hold) {
        auto it = pending_.find(channel);
        if (it == pending_.end() || it->second != hold) return false;
        pending_.erase(it);
        return true;
    }
    std::string id_;

    std::deque<frame_ptr> queue_;
    std::size_t queued_bytes_ = 0;
    std::array<boost::asio::const_buffer, 16> gather_;   // the frames of the write in flight
    std::size_t in_flight_ = 0;                           // how many (the front of queue_)
    std::uint64_t last_batch_ = 0;   // the published transaction delivered last
    std::chrono::steady_clock::time_point last_heard_;    // bytes from the peer
    std::chrono::steady_clock::time_point close_started_;
    std::size_t drained_ = 0;        // bytes discarded since draining started
    bool writing_ = false;
    bool closing_ = false;           // a close frame is queued (or the connection is gone)
    bool close_written_ = false;     // ...and written
    bool peer_closed_ = false;       // the peer's close frame arrived
    bool reader_failed_ = false;     // the peer broke the protocol: no close frame to wait for
    bool draining_ = false;
    bool dropped_ = false;           // the socket is closed
    bool ping_outstanding_ = false;
    bool accepted_ = false;   // registered with the shard and counted among the connections
    // How the connection ended (for the close metric and log line): the code, and who sent it.
    std::optional<std::uint16_t> close_code_;
    char const* close_initiator_ = "server";
    bool close_counted_ = false;
    std::string remote_;
    std::chrono::steady_clock::time_point opened_;
    std::size_t page_bytes_ = 0;   // frame bytes read for a replay and not queued yet, over every page
    std::unordered_map<std::string, subscription> subscriptions_;
};

}  // namespace kp::server
