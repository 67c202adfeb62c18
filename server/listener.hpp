#pragma once
// Accepts TCP connections and spreads them over the shards, round robin.

#include "server/http/router.hpp"
#include "server/server_context.hpp"
#include "server/shard.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <vector>

namespace kp::server {

class listener {
public:
    // Throws boost::system::system_error when the address cannot be bound. `tls`: connections
    // go through the TLS detector when the server has a certificate (not on the metrics address).
    listener(boost::asio::io_context& context, boost::asio::ip::tcp::endpoint endpoint,
             std::vector<std::unique_ptr<shard>>& shards, server_context& server, router const& routes,
             bool tls = true);

    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    void start() { do_accept(); }
    void stop();

private:
    void do_accept();

    boost::asio::ip::tcp::acceptor acceptor_;
    std::vector<std::unique_ptr<shard>>& shards_;
    server_context& server_;
    router const& routes_;
    bool tls_;
    std::size_t next_ = 0;
};

}  // namespace kp::server
