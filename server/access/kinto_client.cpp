#include "server/access/kinto_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>

#include <stdexcept>

namespace kp::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One GET: resolve, connect, (TLS handshake), write, read. The whole exchange shares one
// deadline; any failure completes with status 0.
template <class Stream>
class kinto_request : public std::enable_shared_from_this<kinto_request<Stream>> {
public:
    static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

    template <class... StreamArgs>
    kinto_request(asio::any_io_executor executor, std::string host, std::string port, std::chrono::milliseconds timeout,
                  kinto_client::completion done, StreamArgs&&... stream_args)
        : resolver_(executor),
          stream_(executor, std::forward<StreamArgs>(stream_args)...),
          host_(std::move(host)),
          port_(std::move(port)),
          timeout_(timeout),
          done_(std::move(done)) {}

    void run(std::string target, std::string const& authorization) {
        request_ = {http::verb::get, target, 11};
        request_.set(http::field::host, host_);
        request_.set(http::field::user_agent, "kinto-push/" KINTO_PUSH_VERSION);
        request_.set(http::field::accept, "application/json");
        if (!authorization.empty()) request_.set(http::field::authorization, authorization);
        if constexpr (is_tls) {
            // SNI, and the certificate must name the host.
            SSL_set_tlsext_host_name(stream_.native_handle(), host_.c_str());
            stream_.set_verify_callback(asio::ssl::host_name_verification(host_));
        }
        beast::get_lowest_layer(stream_).expires_after(timeout_);
        resolver_.async_resolve(host_, port_, beast::bind_front_handler(&kinto_request::on_resolve, this->shared_from_this()));
    }

private:
    void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) return finish(0);
        beast::get_lowest_layer(stream_).async_connect(
            results, beast::bind_front_handler(&kinto_request::on_connect, this->shared_from_this()));
    }

    void on_connect(beast::error_code ec, tcp::endpoint const&) {
        if (ec) return finish(0);
        if constexpr (is_tls) {
            stream_.async_handshake(asio::ssl::stream_base::client,
                                    beast::bind_front_handler(&kinto_request::on_handshake, this->shared_from_this()));
        } else {
            on_handshake({});
        }
    }

    void on_handshake(beast::error_code ec) {
        if (ec) return finish(0);
        http::async_write(stream_, request_, beast::bind_front_handler(&kinto_request::on_write, this->shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return finish(0);
        parser_.body_limit(1024 * 1024);
        http::async_read(stream_, buffer_, parser_, beast::bind_front_handler(&kinto_request::on_read, this->shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return finish(0);
        auto& response = parser_.get();
        finish(response.result_int(), std::move(response.body()));
    }

    void finish(unsigned status, std::string body = {}) {
        beast::error_code ignored;
        beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        done_(status, std::move(body));
    }

    tcp::resolver resolver_;
    Stream stream_;
    std::string host_;
    std::string port_;
    std::chrono::milliseconds timeout_;
    kinto_client::completion done_;
    http::request<http::empty_body> request_;
    beast::flat_buffer buffer_;
    http::response_parser<http::string_body> parser_;
};

}  // namespace

kinto_client::kinto_client(std::string const& base_url, std::chrono::milliseconds timeout) : timeout_(timeout) {
    auto url = boost::urls::parse_absolute_uri(base_url);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty())
        throw std::invalid_argument(base_url + ": must be http(s)://host[:port][/path]");
    tls_ = url->scheme() == "https";
    host_ = url->host();
    port_ = url->has_port() ? std::string(url->port()) : (tls_ ? "443" : "80");
    base_path_ = url->encoded_path();
    while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
    base_url_ = base_url;
    if (tls_) {
        tls_context_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        tls_context_->set_default_verify_paths();
        tls_context_->set_verify_mode(asio::ssl::verify_peer);
        SSL_CTX_set_min_proto_version(tls_context_->native_handle(), TLS1_2_VERSION);
    }
}

void kinto_client::get(asio::any_io_executor executor, std::string const& path, std::string const& authorization,
                       completion done) const {
    std::string target = base_path_ + path;
    if (target.empty()) target = "/";
    if (tls_) {
        auto request = std::make_shared<kinto_request<beast::ssl_stream<beast::tcp_stream>>>(
            executor, host_, port_, timeout_, std::move(done), *tls_context_);
        request->run(std::move(target), authorization);
    } else {
        auto request = std::make_shared<kinto_request<beast::tcp_stream>>(executor, host_, port_, timeout_, std::move(done));
        request->run(std::move(target), authorization);
    }
}

}  // namespace kp::server
