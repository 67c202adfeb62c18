#include "server/http/http_session.hpp"

#include "server/net/io_errors.hpp"
#include "server/net/end_http_connection.hpp"
#include "server/sse/sse_session.hpp"
#include "server/ws/push_session.hpp"
#include "server/http/response_head.hpp"
#include "server/ws/websocket_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>

namespace kp::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

namespace {

constexpr std::uint32_t max_header_bytes = 16 * 1024;

}  // namespace

template <class Stream>
http_session<Stream>::http_session(Stream&& stream, beast::flat_buffer buffer, shard& owner, server_context& context,
                                   router const& routes, std::shared_ptr<asio::ssl::context> tls)
    : tls_(std::move(tls)),
      stream_(std::move(stream)),
      buffer_(std::move(buffer)),
      shard_(owner),
      context_(context),
      routes_(routes) {
    beast::error_code ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) peer_ = {peer.address().to_string(), peer.address().is_loopback()};
}

// PROTOCOL.md section 3: a request (head and body) must arrive whole within --request-timeout
// (30 s by default), or the connection is closed: slow or stalled clients cannot hold it.
template <class Stream>
std::chrono::seconds http_session<Stream>::request_deadline() const {
    return std::chrono::seconds(context_.config.request_timeout_s);
}

template <class Stream>
http_session<Stream>::~http_session() {
    if (registered_) shard_.remove_session(this);
}

template <class Stream>
void http_session<Stream>::run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
        self->shard_.add_session(self.get());
        self->registered_ = true;
        if constexpr (is_tls) {
            beast::get_lowest_layer(self->stream_).expires_after(self->request_deadline());
            // The detector's bytes are the start of the TLS handshake.
            self->stream_.async_handshake(asio::ssl::stream_base::server, self->buffer_.data(),
                                          beast::bind_front_handler(&http_session::on_handshake, self));
        } else {
            self->do_read();
        }
    });
}

template <class Stream>
void http_session<Stream>::on_handshake(beast::error_code ec, std::size_t used) {
    if (ec) return spdlog::debug("TLS handshake: {}", ec.message());   // the client's problem
    buffer_.consume(used);
    do_read();
}

template <class Stream>
void http_session<Stream>::shutdown() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).cancel();
}

template <class Stream>
void http_session<Stream>::do_read() {
    if (context_.shutting_down.load()) return do_close();
    parser_.emplace();
    parser_->body_limit(context_.config.max_body_bytes);
    parser_->header_limit(max_header_bytes);
    beast::get_lowest_layer(stream_).expires_after(request_deadline());
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

template <class Stream>
void http_session<Stream>::on_read(beast::error_code ec, std::size_t) {
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
    bool const upgrading = beast::websocket::is_upgrade(request);
    // (The target is parsed here only when it matters: not for every POST of a publisher.)
    if (routes_.serves_websocket() && (upgrading || context_.cors.checks_origins())) {
        auto target = boost::urls::parse_origin_form(request.target());
        std::string const path = target ? std::string(target->path()) : std::string();
        // --allowed-origins, before any upgrade or stream: /v1/ws, /v1/push and /v1/sse
        // (cors_policy::origin_checked), whatever their dispatch below or in the router.
        if (auto refusal = context_.cors.origin_refusal(request, path)) {
            spdlog::info("origin refused: {} on {} from {}",
                         cors_policy::printable(request[http::field::origin]), path, peer_.address);
            return send(std::move(*refusal));
        }
        if (upgrading) {
            if (path == "/v1/ws") return upgrade();
            if (path == "/v1/push" && context_.broadcasts) return upgrade_push();
        }
    }
    if (request.method() == http::verb::get && routes_.serves_websocket()) {
        auto target = boost::urls::parse_origin_form(request.target());
        if (target && target->path() == "/v1/sse") return stream_events();
    }
    routes_.handle(request, peer_, [self = shared_from_this()](http_response response) mutable {
        // Back to this session's shard, wherever the response was made. The reference moves
        // along: this callback (or the lambda holding it) is destroyed where it was called,
        // perhaps on the ingest thread or the blocking pool, and must not be the session's
        // last owner there (its destructor edits the shard's session set).
        // Posted, even on this shard: a 202 leaves after this shard's share of the event's
        // fan-out, which publishing posted just before, as nchan answers after its fan-out.
        // Subscribers hear of an event before its publisher does, and a shard busy fanning
        // out paces its publishers.
        if (!self) return;
        auto executor = self->stream_.get_executor();
        asio::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
            self->send(std::move(response));
        });
    });
}

template <class Stream>
void http_session<Stream>::upgrade() {
    beast::get_lowest_layer(stream_).expires_never();
    auto session = std::make_shared<websocket_session<Stream>>(std::move(stream_), shard_, context_, tls_);
    session->run(parser_->release());
}

template <class Stream>
void http_session<Stream>::upgrade_push() {
    beast::get_lowest_layer(stream_).expires_never();
    auto session = std::make_shared<push_session<Stream>>(std::move(stream_), shard_, context_, tls_);
    session->run(parser_->release());
}

template <class Stream>
void http_session<Stream>::stream_events() {
    beast::get_lowest_layer(stream_).expires_never();
    auto session = std::make_shared<sse_session<Stream>>(std::move(stream_), shard_, context_, tls_);
    session->run(parser_->release());
}

template <class Stream>
void http_session<Stream>::send(http_response response) {
    response_ = std::move(response);
    if (context_.shutting_down.load()) response_->keep_alive(false);
    bool const close = !response_->keep_alive();
    beast::get_lowest_layer(stream_).expires_after(request_deadline());
    if (response_->chunked()) {   // none of our routes answers so; the serializer frames it
        return http::async_write(stream_, *response_,
                                 beast::bind_front_handler(&http_session::on_write, shared_from_this(), close));
    }
    // The head and the body in one gathered write (server/response_head.hpp). A HEAD request
    // gets the head of the GET answer, Content-Length included, and no body (RFC 9110 9.3.2):
    // bytes after the head would be read as the start of the next answer.
    response_head_.clear();   // keeps its capacity from one answer to the next
    append_response_head(response_head_, *response_);
    bool const head_only = parser_ && parser_->get().method() == http::verb::head;
    std::array<asio::const_buffer, 2> const buffers{asio::buffer(response_head_),
                                                    asio::buffer(response_->body().data(),
                                                                 head_only ? 0 : response_->body().size())};
    asio::async_write(stream_, buffers, beast::bind_front_handler(&http_session::on_write, shared_from_this(), close));
}

template <class Stream>
void http_session<Stream>::on_write(bool close, beast::error_code ec, std::size_t) {
    if (ec) {
        log_unexpected(ec, "http write");
        return do_close();
    }
    response_.reset();
    if (close) return do_close();
    do_read();
}

template <class Stream>
void http_session<Stream>::do_close() {
    end_http_connection(stream_, shared_from_this());
}

template class http_session<beast::tcp_stream>;
template class http_session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace kp::server
