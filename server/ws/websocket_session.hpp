#pragma once
// A /v1/ws client (PROTOCOL.md section 3): the WebSocket connection (websocket_connection)
// carrying the subscription protocol (session/session_core), and the answers the core asks
// for, taken from the server: authorization (server/access), the blocking pool for the
// disk, a timer for the credentials' expiry. Lives on one shard.

#include "server/access/subscriber_access.hpp"
#include "server/ws/websocket_connection.hpp"
#include "session/session_core.hpp"
#include "session/session_port.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

namespace kp::server {

template <class Stream>
class websocket_session final : public websocket_connection<Stream>, private session::session_port {
public:
    websocket_session(Stream&& stream, shard& owner, server_context& context,
                      std::shared_ptr<boost::asio::ssl::context> tls = {});

    void history_lost() override;
    // The keep-alive (websocket_connection), then the rechecks due before the next sweep.
    void tick(std::chrono::steady_clock::time_point now) override;

private:
    using base = websocket_connection<Stream>;
    using typename base::request_type;
    using typename base::response_type;

    // websocket_connection
    void on_upgrade(request_type const& request, response_type& response, std::function<void()> proceed) override;
    void on_open() override;
    void on_text(std::string_view text) override;
    void on_written() override;
    void on_end() override;
    bool accepting() const override;

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
    void accepting_again() override;

    session::session_core core_;
    // The credentials' end (JWT exp): made when a token with an expiry arrives, so that the
    // connections without one do not each carry an idle timer. Armed once the connection is
    // open (a failed handshake must not be kept alive by it): until then the deadline waits in
    // expiry_before_open_.
    std::unique_ptr<boost::asio::steady_timer> expiry_;
    std::optional<std::int64_t> expiry_before_open_;
    bool open_ = false;
    // Invalid credentials in the upgrade: a browser cannot read an HTTP status, so the
    // connection opens, then closes with 4001.
    std::optional<std::string> refused_;   // the close reason of refused upgrade credentials
};

}  // namespace kp::server
