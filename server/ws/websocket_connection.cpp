#include "server/ws/websocket_connection.hpp"

#include "server/net/io_errors.hpp"
#include "server/net/lingering_close.hpp"
#include "server/net/write_gather.hpp"
#include "server/telemetry/log_event.hpp"
#include "server/ws/upgrade_answer.hpp"
#include "session/close_code.hpp"
#include "store/random_hex.hpp"
#include "websocket/frame_encoder.hpp"
#include "websocket/message_deflater.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <span>
#include <vector>

namespace kp::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
namespace close_code = session::close_code;

namespace {

// How long a close may wait for a peer that stopped reading before the socket is dropped.
constexpr std::chrono::seconds close_grace{5};
// The read buffer starts this small and grows only while a larger message arrives.
constexpr std::size_t read_chunk = 512;

// The keep-alive ping: the same frame for every connection.
session::frame_ptr const& ping_frame() {
    static auto const frame = std::make_shared<std::string const>(websocket::encode_frame(websocket::opcode::ping, ""));
    return frame;
}

}  // namespace

template <class Stream>
websocket_connection<Stream>::websocket_connection(Stream&& stream, shard& owner, server_context& context,
                                                   std::shared_ptr<asio::ssl::context> tls, char const* endpoint)
    : shard_(owner),
      context_(context),
      tls_(std::move(tls)),
      stream_(std::move(stream)),
      endpoint_(endpoint),
      reader_(context.config.max_frame_bytes),
      queue_(context.config.send_queue_bytes, &context.metrics.bytes_queued),
      close_(close_grace, linger_time),
      id_(store::random_hex(8)) {
    beast::error_code ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
}

template <class Stream>
websocket_connection<Stream>::~websocket_connection() {
    if (!accepted_) return;
    shard_.remove_session(this);
    context_.websocket_connections.fetch_sub(1);
    auto const code = close_.code();
    if (!close_.counted()) context_.metrics.closes.with({std::to_string(code), close_.initiator()}).inc();
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - opened_);
    log_event_lazily(spdlog::level::info, "websocket.close", [&] {
        return nlohmann::json{{"session", id_}, {"endpoint", endpoint_}, {"remote", remote_}, {"code", code},
                              {"initiator", close_.initiator()}, {"duration_ms", ms.count()}};
    });
}

template <class Stream>
void websocket_connection<Stream>::run(request_type request) {
    // The opening handshake (RFC 6455 section 4.2.1); http_session checked the Upgrade.
    auto answer = upgrade_answer::to(request, context_.config.compression);
    handshake_ = std::make_unique<response_type>(std::move(answer.response));
    if (!answer.accepted) return refuse_upgrade();
    deflate_ = answer.deflate;
    if (deflate_) reader_.accept_deflate();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    on_upgrade(request, *handshake_, [self = shared_from_this()] { self->write_handshake(); });
}

template <class Stream>
void websocket_connection<Stream>::write_handshake() {
    http::async_write(stream_, *handshake_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->handshake_.reset();
        self->on_accept(ec);
    });
}

template <class Stream>
void websocket_connection<Stream>::refuse_upgrade() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    http::async_write(stream_, *handshake_, [self = shared_from_this()](beast::error_code, std::size_t) {
        self->handshake_.reset();
        // Nothing more to say nor to wait for: linger until the peer closes.
        auto const now = clock::now();
        self->close_.close(close_code::protocol_error, now);
        self->close_.protocol_error();
        self->act(self->close_.final_written(now));
    });
}

template <class Stream>
void websocket_connection<Stream>::on_accept(beast::error_code ec) {
    if (ec) return log_unexpected(ec, "websocket accept");
    // From here on the shard's sweep watches the connection (keep-alive, close deadline).
    beast::get_lowest_layer(stream_).expires_never();
    last_heard_ = clock::now();
    shard_.add_session(this);
    accepted_ = true;
    opened_ = clock::now();
    context_.metrics.connections_total.inc();
    if (deflate_) context_.metrics.connections_deflate.inc();
    log_event_lazily(spdlog::level::info, "websocket.open",
                     [&] { return nlohmann::json{{"session", id_}, {"endpoint", endpoint_}, {"remote", remote_}}; });
    std::size_t const open = context_.websocket_connections.fetch_add(1) + 1;
    do_read();
    if (open > context_.config.max_connections) {
        context_.metrics.connections_refused.inc();
        return close_with(close_code::too_many_connections, "too many connections");
    }
    if (context_.shutting_down.load()) return close_with(close_code::going_away, "server shutting down");
    on_open();
}

template <class Stream>
void websocket_connection<Stream>::shutdown() {
    close_with(close_code::going_away, "server shutting down");
}

template <class Stream>
void websocket_connection<Stream>::tick(clock::time_point now) {
    if (!accepted_ || close_.dropped()) return;
    if (!close_.is_open()) return act(close_.tick(now));   // a close past its deadline
    auto const heartbeat = std::chrono::seconds(context_.config.heartbeat_s);
    auto const silent = now - last_heard_;
    if (silent >= 2 * heartbeat) {
        spdlog::debug("session {}: silent for two heartbeats; dropping", id_);
        return drop();
    }
    if (silent >= heartbeat && !ping_outstanding_) {
        ping_outstanding_ = true;
        send(ping_frame(), false);
    }
}

template <class Stream>
void websocket_connection<Stream>::do_read() {
    if (close_.dropped() || reading_) return;
    std::size_t const held = buffer_.size();
    std::size_t const wanted = reader_.wanted() > held ? reader_.wanted() - held : 0;
    if (held == 0 && buffer_.capacity() > 4 * read_chunk) buffer_.shrink_to_fit();   // after a large message
    reading_ = true;
    stream_.async_read_some(buffer_.prepare(std::max(wanted, read_chunk)),
                            beast::bind_front_handler(&websocket_connection::on_read, shared_from_this()));
}

template <class Stream>
void websocket_connection<Stream>::on_read(beast::error_code ec, std::size_t bytes) {
    reading_ = false;
    if (ec) {
        if (!close_.draining()) log_unexpected(ec, "websocket read");
        close_.io_failed();
        return drop();
    }
    last_heard_ = clock::now();
    ping_outstanding_ = false;
    buffer_.commit(bytes);
    // Parse frame after frame; once the peer broke the protocol or we drain, only discard.
    while (!close_.draining() && !close_.reader_failed() && !close_.dropped()) {
        auto data = buffer_.data();
        auto r = reader_.read(std::span<char>(static_cast<char*>(data.data()), data.size()));
        handle_event(r.event);   // before consume(): the event's payload points into the buffer
        buffer_.consume(r.consumed);
        if (r.consumed == 0) break;
    }
    if (close_.draining() || close_.reader_failed()) {
        // Discard what a closing peer still sends, up to a bound.
        drained_ += buffer_.size();
        buffer_.consume(buffer_.size());
        if (drained_ >= linger_bytes) return drop();
    }
    // An endpoint that has enough requests waiting reads again once it asks (resume_reading).
    if (close_.is_open() && !accepting()) {
        paused_ = true;
        return;
    }
    do_read();
}

template <class Stream>
void websocket_connection<Stream>::resume_reading() {
    if (!paused_) return;   // not outside on_read: that handler reads again itself
    paused_ = false;
    do_read();
}

template <class Stream>
void websocket_connection<Stream>::handle_event(websocket::frame_event const& event) {
    using kind = websocket::frame_event::kind;
    switch (event.what) {
    case kind::none:
    case kind::pong:   // any byte from the peer already counts as a sign of life
        return;
    case kind::text:
        if (close_.is_open()) on_text(event.payload);   // the peer keeps talking while we close: ignore it
        return;
    case kind::binary:
        if (close_.is_open()) close_with(close_code::protocol_violation, "binary frames are not supported");
        return;
    case kind::ping:
        if (close_.is_open())
            send(std::make_shared<std::string const>(websocket::encode_frame(websocket::opcode::pong, event.payload)),
                 true);
        return;
    case kind::close: {
        bool const was_open = close_.is_open();
        auto const code = event.code == close_code::no_status ? std::uint16_t(1005) : std::uint16_t(event.code);
        act(close_.peer_close(code));
        // Answer with the peer's code (RFC 6455 section 5.5.1), then end the connection.
        if (was_open) close_with(event.code == close_code::no_status ? close_code::normal : event.code, "");
        return;
    }
    case kind::error:
        spdlog::debug("session {}: protocol error: {}", id_, event.payload);
        if (close_.is_open()) {
            close_with(event.code, std::string(event.payload));
            close_.protocol_error();
            return;
        }
        return act(close_.protocol_error());
    }
}

template <class Stream>
void websocket_connection<Stream>::send(session::frame_ptr frame, bool capped) {
    if (!close_.is_open()) return;
    if (queue_.push(std::move(frame)) && capped)
        return close_with(close_code::too_slow, "send queue over " + std::to_string(queue_.limit()) + " bytes");
    flush();
}

template <class Stream>
session::frame_ptr websocket_connection<Stream>::text_frame(std::string_view text) const {
    if (deflate_)
        if (auto frame = websocket::message_deflater::encode_frame(websocket::opcode::text, text); !frame.empty())
            return std::make_shared<std::string const>(std::move(frame));
    return std::make_shared<std::string const>(websocket::encode_frame(websocket::opcode::text, text));
}

template <class Stream>
void websocket_connection<Stream>::flush() {
    if (!queue_.writing() && !queue_.empty() && !close_.dropped()) do_write();
}

template <class Stream>
void websocket_connection<Stream>::do_write() {
    write_queued(stream_, queue_, gather_,
                 beast::bind_front_handler(&websocket_connection::on_write, shared_from_this()));
}

template <class Stream>
void websocket_connection<Stream>::on_write(beast::error_code ec, std::size_t) {
    give_back(std::move(gather_));
    queue_.written();
    if (ec) {
        if (!close_.dropped()) log_unexpected(ec, "websocket write");
        close_.io_failed();
        return drop();
    }
    if (!close_.is_open()) {
        // The close frame is the last one queued: written once the queue is empty.
        if (!queue_.empty()) return do_write();
        return act(close_.final_written(clock::now()));
    }
    on_written();
    flush();
}

template <class Stream>
void websocket_connection<Stream>::close_with(std::uint16_t code, std::string const& reason) {
    if (!close_.close(code, clock::now())) {
        // Already closing (or gone): still stop queueing, so the endpoint stops too.
        queue_.seal(nullptr);
        return;
    }
    if (close_.initiator() == std::string_view("server")) {
        // Counted now, not when the session ends: a peer that stopped reading keeps it for 5 s.
        close_.mark_counted();
        if (accepted_) context_.metrics.closes.with({std::to_string(code), "server"}).inc();
    }
    spdlog::debug("session {}: closing with {} ({})", id_, code, reason);
    // Drop what is queued but not yet being written: the client resumes from its last offset.
    queue_.seal(std::make_shared<std::string const>(websocket::encode_close(code, reason)));
    // May run inside a delivery (subscriber_table::deliver): leave the tables once it is over.
    if (!finished_) {
        finished_ = true;
        asio::post(stream_.get_executor(), [self = shared_from_this()] { self->on_end(); });
    }
    flush();
    resume_reading();   // the peer's close frame must be read
    // Then wait for the peer's close frame; the shard's sweep drops the peer after close_grace.
}

template <class Stream>
void websocket_connection<Stream>::act(session::close_state::action what) {
    switch (what) {
    case session::close_state::action::none: return;
    case session::close_state::action::start_draining: return start_draining();
    case session::close_state::action::drop: return drop();
    }
}

template <class Stream>
void websocket_connection<Stream>::start_draining() {
    // Stop sending, then read what the peer still sends until it closes too: closing with
    // unread data would reset the connection, and the peer could lose our close frame.
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::socket_base::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    do_read();   // a refused upgrade had no read in flight
}

template <class Stream>
void websocket_connection<Stream>::drop() {
    close_.drop();
    queue_.seal(nullptr);
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    finish();
}

template <class Stream>
void websocket_connection<Stream>::finish() {
    // Every way out passes here (never inside a delivery: reads, writes and the sweep are
    // completions of their own). The session stays registered with its shard until it is
    // destroyed: shutdown waits for that, so that close frames are written first.
    if (finished_ || !accepted_) return;
    finished_ = true;
    on_end();
}

template class websocket_connection<beast::tcp_stream>;
template class websocket_connection<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace kp::server
