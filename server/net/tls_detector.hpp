#pragma once
// The first bytes of a connection to a TLS listener: a TLS ClientHello starts an https/wss
// session; anything else (a plaintext HTTP client) gets a short 400 and the connection ends.

#include "server/http/router.hpp"
#include "server/server_context.hpp"
#include "server/shard.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <memory>
#include <optional>

namespace kp::server {

class tls_detector : public std::enable_shared_from_this<tls_detector> {
public:
    tls_detector(boost::asio::ip::tcp::socket&& socket, shard& owner, server_context& context, router const& routes);
    void run();

private:
    void on_detect(boost::beast::error_code ec, bool tls);

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<http_response> response_;
    shard& shard_;
    server_context& context_;
    router const& routes_;
};

}  // namespace kp::server
