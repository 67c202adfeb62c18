#pragma once
// One HTTP connection: reads requests with size limits and a deadline, answers them through
// the router, and hands a WebSocket upgrade on /v1/ws to a websocket_session, on /v1/push
// to a push_session, and GET /v1/sse to an sse_session. Requests on /v1/ws, /v1/push and
// /v1/sse whose Origin --allowed-origins refuses get 403 here, before any of that
// (server/http/cors_policy).
//
// `Stream` is beast::tcp_stream (http://) or beast::ssl_stream<beast::tcp_stream> (https://,
// after the TLS handshake); both are instantiated in the .cpp.

#include "server/closeable.hpp"
#include "server/http/router.hpp"
#include "server/server_context.hpp"
#include "server/shard.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace kp::server {

template <class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>>, public closeable {
public:
    // `buffer` holds bytes already read from the connection (by the TLS detector); `tls`
    // keeps the TLS context alive as long as the stream (null for http://).
    http_session(Stream&& stream, boost::beast::flat_buffer buffer, shard& owner, server_context& context,
                 router const& routes, std::shared_ptr<boost::asio::ssl::context> tls = {});
    ~http_session() override;

    void run();
    void shutdown() override;

private:
    using std::enable_shared_from_this<http_session<Stream>>::shared_from_this;
    static constexpr bool is_tls = !std::is_same_v<Stream, boost::beast::tcp_stream>;

    std::chrono::seconds request_deadline() const;
    void on_handshake(boost::beast::error_code ec, std::size_t used);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void upgrade();
    void upgrade_push();   // /v1/push, when --broadcast is set
    void stream_events();  // GET /v1/sse
    void send(http_response response);
    void on_write(bool close, boost::beast::error_code ec, std::size_t bytes);
    void do_close();

    std::shared_ptr<boost::asio::ssl::context> tls_;
    Stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::optional<http_response> response_;
    std::string response_head_;   // the head of response_, while it is written
    shard& shard_;
    server_context& context_;
    router const& routes_;
    http_peer peer_;
    bool registered_ = false;
};

}  // namespace kp::server
