#pragma once
// One WebSocket connection on the project's own wire layer (websocket/): the opening
// handshake, frames read and checked (RFC 6455), control frames, the keep-alive, one send
// queue with one write in flight, the close handshake (session/close_state), the connection
// cap, and the close metric and log line. Both endpoints run on it: /v1/ws
// (websocket_session) and /v1/push (push_session) only add what their messages mean.
//
// Lives on one shard and touches nothing else's state, so it has no lock. Frames of published
// events are encoded once for every connection; several queued frames leave in one system
// call; the read buffer starts small and grows only for a large message; the keep-alive is
// driven by the shard's sweep (tick) rather than a timer per connection.
//
// permessage-deflate (upgrade_answer, websocket/): when negotiated, the connection keeps one
// flag; compressed client messages are inflated by the frame reader with its thread's
// z_stream, and text frames of 256 bytes or more leave compressed (text_frame(); an event's
// compressed frame is built once, channels::message::deflated()).
//
// `Stream` is beast::tcp_stream (ws://) or beast::ssl_stream<beast::tcp_stream> (wss://).

#include "server/closeable.hpp"
#include "server/net/write_gather.hpp"
#include "server/server_context.hpp"
#include "server/shard.hpp"
#include "session/close_state.hpp"
#include "session/send_queue.hpp"
#include "websocket/frame_reader.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace kp::server {

template <class Stream>
class websocket_connection : public std::enable_shared_from_this<websocket_connection<Stream>>, public closeable {
public:
    using request_type = boost::beast::http::request<boost::beast::http::string_body>;
    using response_type = boost::beast::http::response<boost::beast::http::string_body>;

    // `tls` keeps the TLS context alive as long as the stream that uses it (null for ws://).
    // `endpoint` names it in logs ("/v1/ws").
    websocket_connection(Stream&& stream, shard& owner, server_context& context,
                         std::shared_ptr<boost::asio::ssl::context> tls, char const* endpoint);
    ~websocket_connection() override;

    // Answers the upgrade request read by the HTTP session: 101, or 400/426 for a bad one.
    void run(request_type request);

    void shutdown() override;
    void tick(std::chrono::steady_clock::time_point now) override;

protected:
    // Looks at the upgrade before it is accepted (credentials, a subprotocol to echo), then
    // calls `proceed` once, on the connection's executor, possibly later (credentials that
    // wait for a key set): the 101 is written then. `request` lives only during the call.
    virtual void on_upgrade(request_type const& request, response_type& response, std::function<void()> proceed) = 0;
    // The connection is open and under the cap: greet, or wait for the client.
    virtual void on_open() = 0;
    // A whole text message (valid UTF-8).
    virtual void on_text(std::string_view text) = 0;
    // A write finished and the connection is still open.
    virtual void on_written() {}
    // The connection is closing or gone: leave every table. Runs once, on the shard, never
    // inside a delivery.
    virtual void on_end() = 0;
    // False while the endpoint wants no more messages for now (resume_reading() later).
    virtual bool accepting() const { return true; }

    // Queues a frame; `capped`: the queue's limit applies now (4008), else it is judged by
    // the caller (per transaction, or paced).
    void send(session::frame_ptr frame, bool capped);
    // A text frame for this connection only: compressed when the connection negotiated
    // permessage-deflate and it pays (websocket::message_deflater::encode_frame), else plain.
    session::frame_ptr text_frame(std::string_view text) const;
    bool deflating() const { return deflate_; }
    // Starts a write if frames wait and none is in flight.
    void flush();
    void close_with(std::uint16_t code, std::string const& reason);
    void resume_reading();

    session::send_queue& queue() { return queue_; }
    std::string const& id() const { return id_; }
    boost::asio::any_io_executor executor() { return stream_.get_executor(); }

    // Keeps the connection alive in a completion handler (of this class or a derived one).
    using std::enable_shared_from_this<websocket_connection<Stream>>::shared_from_this;

    shard& shard_;
    server_context& context_;

private:
    void refuse_upgrade();
    void write_handshake();
    void on_accept(boost::beast::error_code ec);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void handle_event(websocket::frame_event const& event);
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void act(session::close_state::action what);
    // After our close frame: stop sending and read (discarding, bounded) until the peer closes.
    void start_draining();
    // The socket is gone or must go now.
    void drop();
    void finish();

    std::shared_ptr<boost::asio::ssl::context> tls_;
    Stream stream_;
    char const* endpoint_;
    boost::beast::flat_buffer buffer_;
    websocket::frame_reader reader_;
    std::unique_ptr<response_type> handshake_;
    session::send_queue queue_;
    session::close_state close_;
    // The frames of the write in flight: held only while writing, taken from and given back
    // to the thread's spares, so an idle connection carries none.
    std::unique_ptr<gather_array> gather_;
    std::string id_;
    std::string remote_;
    std::chrono::steady_clock::time_point opened_;
    std::chrono::steady_clock::time_point last_heard_;   // bytes from the peer
    std::size_t drained_ = 0;       // bytes discarded since draining started
    bool accepted_ = false;         // registered with the shard and counted among the connections
    bool reading_ = false;          // a read is in flight
    bool paused_ = false;           // no read in flight until resume_reading() (accepting())
    bool ping_outstanding_ = false;
    bool finished_ = false;         // on_end() ran or is posted
    bool deflate_ = false;          // permessage-deflate negotiated
};

}  // namespace kp::server
