#pragma once
// One HTTP connection: reads requests with size limits and a deadline, answers them through
// the router, and hands a WebSocket upgrade on /v1/ws to a websocket_session.

#include "server/closeable.hpp"
#include "server/router.hpp"
#include "server/server_context.hpp"
#include "server/shard.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <memory>
#include <optional>

namespace kp::server {

class http_session : public std::enable_shared_from_this<http_session>, public closeable {
public:
    http_session(boost::asio::ip::tcp::socket&& socket, shard& owner, server_context& context,
                 router const& routes);
    ~http_session() override;

    void run();
    void shutdown() override;

private:
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void send(http_response response);
    void on_write(bool close, boost::beast::error_code ec, std::size_t bytes);
    void do_close();

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::optional<http_response> response_;
    shard& shard_;
    server_context& context_;
    router const& routes_;
    bool loopback_ = false;
    bool registered_ = false;
};

}  // namespace kp::server
