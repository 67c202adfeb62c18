#include "server/outbound/outbound_connection.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace kp::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

bool is_ip_literal(std::string const& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

}  // namespace

outbound_connection::outbound_connection(asio::any_io_executor executor, std::shared_ptr<asio::ssl::context> tls,
                                         std::string host)
    : tls_(std::move(tls)),
      host_(std::move(host)),
      stream_(tls_ ? decltype(stream_){std::in_place_index<1>, executor, *tls_}
                   : decltype(stream_){std::in_place_index<0>, executor}),
      idle_timer_(executor) {}

beast::tcp_stream& outbound_connection::tcp() {
    return std::visit([](auto& stream) -> beast::tcp_stream& { return beast::get_lowest_layer(stream); }, stream_);
}

bool outbound_connection::is_open() const {
    return !closed_;
}

void outbound_connection::close() {
    if (closed_) return;
    closed_ = true;
    unpark();
    boost::system::error_code ignored;
    tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp().close();
}

void outbound_connection::connect(std::vector<asio::ip::tcp::endpoint> endpoints, connect_handler done) {
    tcp().async_connect(endpoints, [self = shared_from_this(), done = std::move(done)](
                                       beast::error_code ec, asio::ip::tcp::endpoint const&) mutable {
        if (ec) {
            done(self->closed_ ? "connection closed" : "could not connect: " + ec.message());
            return;
        }
        self->tcp().socket().set_option(asio::ip::tcp::no_delay{true}, ec);
        if (self->tls_) {
            self->handshake(std::move(done));
        } else {
            done({});
        }
    });
}

void outbound_connection::handshake(connect_handler done) {
    auto& stream = std::get<tls_stream>(stream_);
    // SNI names hosts only, never addresses (RFC 6066 section 3).
    if (!is_ip_literal(host_)) SSL_set_tlsext_host_name(stream.native_handle(), host_.c_str());
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(asio::ssl::host_name_verification(host_));
    stream.async_handshake(asio::ssl::stream_base::client,
                           [self = shared_from_this(), done = std::move(done)](beast::error_code ec) mutable {
                               if (!ec) {
                                   done({});
                                   return;
                               }
                               if (self->closed_) {
                                   done("connection closed");
                                   return;
                               }
                               auto const verified =
                                   SSL_get_verify_result(std::get<tls_stream>(self->stream_).native_handle());
                               if (verified != X509_V_OK) {
                                   done("TLS certificate of " + self->host_ + " does not verify: " +
                                        X509_verify_cert_error_string(verified));
                               } else {
                                   done("TLS handshake with " + self->host_ + " failed: " + ec.message());
                               }
                           });
}

void outbound_connection::exchange(http::request<http::string_body> const& request, std::size_t max_response_bytes,
                                   exchange_handler done) {
    request_ = std::make_shared<http::request<http::string_body>>(request);
    buffer_.clear();
    std::visit(
        [&](auto& stream) {
            http::async_write(stream, *request_,
                              [self = shared_from_this(), max_response_bytes, done = std::move(done)](
                                  beast::error_code ec, std::size_t) mutable {
                                  if (ec) {
                                      exchange_result failed;
                                      failed.error = "could not send the request: " + ec.message();
                                      failed.nothing_received = true;
                                      done(std::move(failed));
                                      return;
                                  }
                                  self->read_response(max_response_bytes, std::move(done));
                              });
        },
        stream_);
}

void outbound_connection::read_response(std::size_t max_response_bytes, exchange_handler done) {
    parser_ = std::make_unique<http::response_parser<http::string_body>>();
    auto const header_limit = std::min<std::size_t>(max_response_bytes, std::numeric_limits<std::uint32_t>::max());
    parser_->header_limit(static_cast<std::uint32_t>(header_limit));
    parser_->body_limit(max_response_bytes);
    std::visit(
        [&](auto& stream) {
            http::async_read_header(
                stream, buffer_, *parser_,
                [self = shared_from_this(), max_response_bytes, done = std::move(done)](
                    beast::error_code ec, std::size_t header_bytes) mutable {
                    if (ec) {
                        done(self->read_failure(ec, max_response_bytes));
                        return;
                    }
                    // The header and the body share the limit.
                    self->parser_->body_limit(max_response_bytes - std::min(header_bytes, max_response_bytes));
                    std::visit(
                        [&](auto& stream_again) {
                            http::async_read(stream_again, self->buffer_, *self->parser_,
                                             [self, max_response_bytes, done = std::move(done)](
                                                 beast::error_code read_ec, std::size_t) mutable {
                                                 if (read_ec) {
                                                     done(self->read_failure(read_ec, max_response_bytes));
                                                     return;
                                                 }
                                                 auto const& response = self->parser_->get();
                                                 // An interim answer (100 Continue, 103 Early
                                                 // Hints…): the final one follows.
                                                 if (response.result_int() / 100 == 1 && response.result_int() != 101) {
                                                     self->read_response(max_response_bytes, std::move(done));
                                                     return;
                                                 }
                                                 exchange_result answered;
                                                 answered.status = response.result_int();
                                                 // Bytes after the response: the peer does not
                                                 // speak HTTP/1.1 as expected, start afresh.
                                                 answered.reusable = response.keep_alive() && self->buffer_.size() == 0 &&
                                                                     !self->closed_;
                                                 self->parser_.reset();
                                                 done(std::move(answered));
                                             });
                        },
                        self->stream_);
                });
        },
        stream_);
}

outbound_connection::exchange_result outbound_connection::read_failure(beast::error_code const& ec,
                                                                       std::size_t max_response_bytes) const {
    exchange_result failed;
    failed.nothing_received = !parser_->got_some() && buffer_.size() == 0;
    if (ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::buffer_overflow) {
        failed.error = "response larger than " + std::to_string(max_response_bytes) + " bytes";
    } else if (closed_) {
        failed.error = "connection closed";
    } else if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == http::error::partial_message) {
        failed.error = failed.nothing_received ? "connection closed without an answer"
                                               : "connection closed before the end of the response";
    } else {
        failed.error = "could not read the response: " + ec.message();
    }
    return failed;
}

void outbound_connection::park(std::chrono::steady_clock::duration timeout, std::function<void()> expired) {
    auto const generation = ++park_generation_;
    idle_timer_.expires_after(timeout);
    idle_timer_.async_wait([self = shared_from_this(), generation, expired = std::move(expired)](beast::error_code ec) {
        if (ec || generation != self->park_generation_) return;
        expired();
    });
}

void outbound_connection::unpark() {
    ++park_generation_;
    idle_timer_.cancel();
}

}  // namespace kp::server
