#include "bench/loadgen/publisher_connection.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <netinet/in.h>

#include <chrono>

namespace kp::loadgen {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto request_timeout = std::chrono::seconds(30);

}  // namespace

publisher_connection::publisher_connection(asio::io_context& io, http_base_url const& url, asio::ip::address_v4 source)
    : io_(io), url_(url), source_(source) {}

void publisher_connection::send(publish_request const& r, handler done) {
    busy_ = true;
    done_ = std::move(done);
    request_ = {};
    request_.method(http::verb::post);
    request_.target(r.target);
    request_.version(11);
    request_.set(http::field::host, url_.host_header());
    request_.set(http::field::user_agent, "kp-loadgen");
    request_.set(http::field::content_type, r.content_type);
    if (!r.authorization.empty()) request_.set(http::field::authorization, r.authorization);
    request_.body() = r.body;
    request_.prepare_payload();

    if (stream_ && stream_->socket().is_open()) return write();
    stream_ = std::make_unique<beast::tcp_stream>(io_);
    error_code ec;
    auto& socket = stream_->socket();
    socket.open(tcp::v4(), ec);
    if (!ec) {
        int const one = 1;
        ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        socket.set_option(tcp::no_delay(true), ec);
        socket.bind(tcp::endpoint(source_, 0), ec);
    }
    if (ec) {
        asio::post(io_, [self = shared_from_this()] { self->fail(); });
        return;
    }
    stream_->expires_after(request_timeout);
    stream_->async_connect(tcp::endpoint(asio::ip::make_address_v4(url_.host), url_.port),
                           [self = shared_from_this()](error_code e) {
                               if (e) return self->fail();
                               self->write();
                           });
}

void publisher_connection::write() {
    stream_->expires_after(request_timeout);
    http::async_write(*stream_, request_, [self = shared_from_this()](error_code ec, std::size_t) {
        if (ec) return self->fail();
        self->response_ = {};
        http::async_read(*self->stream_, self->buffer_, self->response_, [self](error_code re, std::size_t) {
            if (re) return self->fail();
            self->stream_->expires_never();
            if (!self->response_.keep_alive()) {
                error_code ignored;
                self->stream_->socket().close(ignored);
            }
            self->busy_ = false;
            if (auto d = std::exchange(self->done_, nullptr)) d(self->response_.result_int());
        });
    });
}

void publisher_connection::fail() {
    if (stream_) {
        error_code ignored;
        stream_->socket().close(ignored);
    }
    buffer_.clear();
    busy_ = false;
    if (auto d = std::exchange(done_, nullptr)) d(0);
}

}  // namespace kp::loadgen
