#include "server/listener.hpp"

#include "server/http/http_session.hpp"
#include "server/net/io_errors.hpp"
#include "server/net/tls_detector.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace kp::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

listener::listener(asio::io_context& context, tcp::endpoint endpoint, std::vector<std::unique_ptr<shard>>& shards,
                   server_context& server, router const& routes, bool tls)
    : acceptor_(context), shards_(shards), server_(server), routes_(routes), tls_(tls) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

void listener::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
}

void listener::do_accept() {
    shard& target = *shards_[next_];
    next_ = (next_ + 1) % shards_.size();
    // The new socket belongs to the target shard's io_context from the start.
    acceptor_.async_accept(target.context(), [this, &target](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
            // Out of file descriptors and the like: log, and keep accepting.
            spdlog::warn("accept: {}", ec.message());
        } else {
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            // Bounds the kernel memory a client that stops reading can hold (see --socket-send-buffer).
            if (auto bytes = server_.config.socket_send_buffer)
                socket.set_option(asio::socket_base::send_buffer_size(static_cast<int>(bytes)), ignored);
            // The session is made on its shard's thread: no reference to it is ever held here,
            // so it also ends there (its destructor edits the shard's session set).
            bool const detect_tls = tls_ && server_.tls;
            asio::post(target.context(), [&target, &server = server_, &routes = routes_, detect_tls,
                                          socket = std::move(socket)]() mutable {
                if (detect_tls)
                    std::make_shared<tls_detector>(std::move(socket), target, server, routes)->run();
                else
                    std::make_shared<http_session<boost::beast::tcp_stream>>(
                        boost::beast::tcp_stream(std::move(socket)), boost::beast::flat_buffer{}, target, server,
                        routes)
                        ->run();
            });
        }
        do_accept();
    });
}

}  // namespace kp::server
