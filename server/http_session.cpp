#include "server/http_session.hpp"

#include "server/io_errors.hpp"
#include "server/lingering_close.hpp"
#include "server/websocket_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

namespace kp::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

namespace {

// PROTOCOL.md section 3: a request (head and body) must arrive whole within 30 s.
constexpr std::chrono::seconds request_deadline{30};
constexpr std::uint32_t max_header_bytes = 16 * 1024;

}  // namespace

http_session::http_session(asio::ip::tcp::socket&& socket, shard& owner, server_context& context,
                           router const& routes)
    : stream_(std::move(socket)), shard_(owner), context_(context), routes_(routes) {
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    loopback_ = !ec && peer.address().is_loopback();
}

http_session::~http_session() {
    if (registered_) shard_.remove_session(this);
}

void http_session::run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
        self->shard_.add_session(self.get());
        self->registered_ = true;
        self->do_read();
    });
}

void http_session::shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream_.cancel();
}

void http_session::do_read() {
    if (context_.shutting_down.load()) return do_close();
    parser_.emplace();
    parser_->body_limit(context_.config.max_body_bytes);
    parser_->header_limit(max_header_bytes);
    stream_.expires_after(request_deadline);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return do_close();
    if (ec == http::error::body_limit) {
        return send(error_response(413, kinto_errno::request_too_large,
                                   "body larger than " + std::to_string(context_.config.max_body_bytes) + " bytes",
                                   11, false));
    }
    if (ec == http::error::header_limit) {
        return send(error_response(431, kinto_errno::invalid_parameters, "request headers too large", 11, false));
    }
    if (ec && ec.category() == beast::http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message) {
        return send(error_response(400, kinto_errno::invalid_parameters, "malformed HTTP request: " + ec.message(),
                                   11, false));
    }
    if (ec) {
        log_unexpected(ec, "http read");
        return do_close();
    }

    auto& request = parser_->get();
    if (beast::websocket::is_upgrade(request)) {
        auto target = boost::urls::parse_origin_form(request.target());
        if (target && target->path() == "/v1/ws") {
            stream_.expires_never();
            auto session = std::make_shared<websocket_session>(stream_.release_socket(), shard_, context_);
            session->run(parser_->release());
            return;
        }
    }
    routes_.handle(request, loopback_, [self = shared_from_this()](http_response response) {
        // Back to this session's shard, wherever the response was made.
        asio::dispatch(self->stream_.get_executor(),
                       [self, response = std::move(response)]() mutable { self->send(std::move(response)); });
    });
}

void http_session::send(http_response response) {
    response_ = std::move(response);
    if (context_.shutting_down.load()) response_->keep_alive(false);
    bool const close = !response_->keep_alive();
    stream_.expires_after(request_deadline);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&http_session::on_write, shared_from_this(), close));
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
    if (ec) {
        log_unexpected(ec, "http write");
        return do_close();
    }
    response_.reset();
    if (close) return do_close();
    do_read();
}

void http_session::do_close() {
    // The peer may still be sending (the rest of a body over the limit): linger, so that it
    // reads our answer instead of a reset.
    async_lingering_close(stream_, [self = shared_from_this()](beast::error_code) {});
}

}  // namespace kp::server
