#include "server/net/tls_detector.hpp"

#include "server/http/http_session.hpp"
#include "server/net/io_errors.hpp"
#include "server/net/lingering_close.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>

namespace kp::server {

namespace beast = boost::beast;
namespace asio = boost::asio;

tls_detector::tls_detector(asio::ip::tcp::socket&& socket, shard& owner, server_context& context,
                           router const& routes)
    : stream_(std::move(socket)), shard_(owner), context_(context), routes_(routes) {}

void tls_detector::run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
        self->stream_.expires_after(std::chrono::seconds(self->context_.config.request_timeout_s));
        beast::async_detect_ssl(self->stream_, self->buffer_,
                                beast::bind_front_handler(&tls_detector::on_detect, self));
    });
}

void tls_detector::on_detect(beast::error_code ec, bool tls) {
    if (ec) return log_unexpected(ec, "TLS detection");
    if (tls) {
        auto context = context_.tls->current();
        auto session = std::make_shared<http_session<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(std::move(stream_), *context), std::move(buffer_), shard_, context_,
            routes_, context);
        return session->run();
    }
    // A plaintext client on the TLS port: tell it, then end the connection cleanly.
    response_ = error_response(400, kinto_errno::invalid_parameters, "this port speaks TLS (https, wss)", 11, false);
    beast::http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code, std::size_t) {
        async_lingering_close(self->stream_, [self](beast::error_code) {});
    });
}

}  // namespace kp::server
