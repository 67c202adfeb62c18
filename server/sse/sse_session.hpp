#pragma once
// A GET /v1/sse stream (PROTOCOL.md section 6): the subscription core (session/session_core)
// over one HTTP response that never ends, in the event-stream format. Lives on one shard.
//
// The channels of the URL are submitted to the core as subscribe requests, in the query's
// order. Nothing is written until each has its answer: a refusal (a bad position, missing or
// refused credentials, Kinto not answering) is then an HTTP error in Kinto's shape, before any
// stream; otherwise the 200 head and everything queued meanwhile leave together. From then on
// the core's replies and events are written as SSE messages: `event: subscribed`, unnamed
// events with the stream's position as their id (sse_event_id), `: ping` every heartbeat, and
// `event: error` before the stream ends (too slow, credentials expired, shutdown). A channel
// that Kinto no longer allows (session_core's recheck, `unsubscribed` with a reason) gets an
// `event: error` naming it; the stream ends with the last one.
//
// `Stream` is beast::tcp_stream (http://) or beast::ssl_stream<beast::tcp_stream> (https://).

#include "server/closeable.hpp"
#include "server/access/subscriber_access.hpp"
#include "server/http/cors_policy.hpp"
#include "server/net/write_gather.hpp"
#include "server/server_context.hpp"
#include "server/shard.hpp"
#include "server/sse/sse_stream_state.hpp"
#include "session/close_state.hpp"
#include "session/send_queue.hpp"
#include "session/session_core.hpp"
#include "session/session_port.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kp::server {

template <class Stream>
class sse_session final : public std::enable_shared_from_this<sse_session<Stream>>,
                          public closeable,
                          private session::session_port {
public:
    using request_type = boost::beast::http::request<boost::beast::http::string_body>;

    // `tls` keeps the TLS context alive as long as the stream that uses it (null for http://).
    sse_session(Stream&& stream, shard& owner, server_context& context,
                std::shared_ptr<boost::asio::ssl::context> tls = {});
    ~sse_session() override;

    // Answers the request read by the HTTP session: a refusal, or the stream. On the shard.
    void run(request_type const& request);

    void shutdown() override;
    void tick(std::chrono::steady_clock::time_point now) override;
    void history_lost() override;

private:
    enum class phase { subscribing, streaming, refusing };

    // run()'s second half, once the credentials are known: the stream, or its refusal.
    void open_stream(sse_request wanted, subscriber_access::upgrade_found found);

    // session::session_port
    void authorize(session::subscriber_identity const& identity, std::string const& channel, decided done) override;
    void recheck(session::subscriber_identity const& identity, std::string const& channel, decided done) override;
    std::int64_t steady_ms() const override;
    void identify(std::string const& token, identified done) override;
    void locate(std::string const& channel, std::int64_t timestamp, located done) override;
    void read_page(std::string const& channel, std::uint64_t after, std::size_t limit, paged done) override;
    void watch_expiry(std::optional<std::int64_t> ends_s) override;
    session::frame_ptr reply_frame(nlohmann::ordered_json const& frame) override;
    void push_event(session::send_queue& queue, channels::message_ptr const& m) override;
    void queued() override;
    void close(std::uint16_t code, std::string const& reason) override;
    void accepting_again() override {}

    // Kinto no longer allows the stream's last channel: its error event ends the stream.
    void end_revoked();
    // Every subscribe has its answer: the stream starts, or the request is refused.
    void decide();
    // An HTTP error instead of the stream; the connection ends after it.
    void refuse(unsigned status, int errno_value, std::string const& message);
    void flush();
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    // Reads only to see the client go (it sends nothing after its request).
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void act(session::close_state::action what);
    void start_draining();
    void drop();
    // Leaves every channel, once, never inside a delivery.
    void finish();

    shard& shard_;
    server_context& context_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    Stream stream_;
    session::send_queue queue_;
    session::close_state close_;
    session::session_core core_;
    // The query's channels, the subscribes answered and the first refusal, the stream's position.
    sse_stream_state state_;
    std::unique_ptr<boost::beast::http::response<boost::beast::http::string_body>> refusal_;
    cors_policy::header_list cors_headers_;               // empty without --cors-origins
    std::unique_ptr<gather_array> gather_;
    std::unique_ptr<boost::asio::steady_timer> expiry_;
    session::frame_ptr revoked_last_;                     // the error event of the last channel revoked
    std::array<char, 64> discard_{};                      // what a client sends after its request
    std::string id_;
    std::string remote_;
    std::chrono::steady_clock::time_point opened_;
    std::chrono::steady_clock::time_point last_write_;
    std::size_t drained_ = 0;
    unsigned version_ = 11;   // the request's HTTP version
    phase phase_ = phase::subscribing;
    bool accepted_ = false;    // counted among the connections and registered with the shard
    bool deciding_ = false;    // decide() is posted
    bool finished_ = false;
};

}  // namespace kp::server
