#pragma once
// One Autopush client on /v1/push (docs/firefox.md): the broadcast part of Mozilla's push
// protocol, as Firefox speaks it with the `push-notification` subprotocol. hello, `{}`
// pings, broadcast_subscribe and broadcasts are served; Web Push registration is refused
// politely (register gets status 501) and the connection stays up. Lives on one shard, with
// a byte-capped send queue and one write in flight, on Beast's WebSocket stream (its
// timeouts keep the connection alive: broadcast traffic is tiny).

#include "push/broadcast_subscriber.hpp"
#include "push/client_broadcasts.hpp"
#include "server/closeable.hpp"
#include "server/server_context.hpp"
#include "server/shard.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace kp::server {

// `Stream` is beast::tcp_stream (ws://) or beast::ssl_stream<beast::tcp_stream> (wss://).
template <class Stream>
class push_session : public std::enable_shared_from_this<push_session<Stream>>,
                     public push::broadcast_subscriber,
                     public closeable {
public:
    push_session(Stream&& stream, shard& owner, server_context& context,
                 std::shared_ptr<boost::asio::ssl::context> tls = {});
    ~push_session() override;

    // Accepts the upgrade request read by the HTTP session.
    void run(boost::beast::http::request<boost::beast::http::string_body> request);

    push::client_broadcasts& broadcasts() override { return broadcasts_; }
    void send_broadcast(push::frame_ptr const& frame) override;
    void shutdown() override;

    // True when a Sec-WebSocket-Protocol value offers `push-notification`.
    static bool offers_push_protocol(std::string_view header);

private:
    using frame_ptr = push::frame_ptr;

    void on_accept(boost::beast::error_code ec);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void handle_frame(std::string_view text);
    void handle_hello(nlohmann::ordered_json const& frame);
    void handle_broadcast_subscribe(nlohmann::ordered_json const& frame);
    void reply(nlohmann::ordered_json const& frame);

    void enqueue(frame_ptr frame);
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void close_with(std::uint16_t code, std::string const& reason);
    void leave();

    using std::enable_shared_from_this<push_session<Stream>>::shared_from_this;

    std::shared_ptr<boost::asio::ssl::context> tls_;
    boost::beast::websocket::stream<Stream> ws_;
    shard& shard_;
    server_context& context_;
    boost::beast::flat_buffer buffer_;
    boost::asio::steady_timer close_deadline_;
    std::string uaid_;
    push::client_broadcasts broadcasts_;

    std::deque<frame_ptr> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool closing_ = false;
    bool accepted_ = false;   // registered with the shard and counted among the connections
    bool hello_ = false;      // the client's hello was answered
    bool listed_ = false;     // in the shard's broadcast table
};

}  // namespace kp::server
