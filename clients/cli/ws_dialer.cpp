#include "clients/cli/ws_dialer.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <deque>
#include <stdexcept>
#include <type_traits>

namespace kp::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto step_timeout = std::chrono::seconds(10);   // resolve, connect, TLS, upgrade: each
constexpr auto close_timeout = std::chrono::seconds(3);
constexpr auto initial_idle_timeout = std::chrono::seconds(60);
constexpr std::size_t max_message_bytes = 64 * 1024 * 1024;

bool is_ip_address(std::string const& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// A WebSocket connection over Next (beast::tcp_stream or beast::ssl_stream of one), from the
// first DNS query to the last close frame.
template <class Next>
class beast_connection : public ws_connection, public std::enable_shared_from_this<beast_connection<Next>> {
public:
    static constexpr bool is_tls = !std::is_same_v<Next, beast::tcp_stream>;

    beast_connection(asio::io_context& io, std::shared_ptr<ssl::context> tls)
        requires(is_tls)
        : tls_(std::move(tls)), resolver_(io), timer_(io), ws_(io, *tls_) {}
    explicit beast_connection(asio::io_context& io)
        requires(!is_tls)
        : resolver_(io), timer_(io), ws_(io) {}

    // Runs the whole dial; `done` runs once.
    void open(ws_dialer::settings const& s, ws_dialer::handler done) {
        settings_ = s;
        done_ = std::move(done);
        timer_.expires_after(step_timeout);
        timer_.async_wait([self = this->shared_from_this()](error_code ec) {
            if (!ec) self->fail({"timed out resolving " + self->settings_.url.host(), 0, false});
        });
        resolver_.async_resolve(settings_.url.host(), std::to_string(settings_.url.port()),
                                [self = this->shared_from_this()](error_code ec, tcp::resolver::results_type results) {
                                    self->on_resolve(ec, std::move(results));
                                });
    }

    void cancel_dial() { fail({"cancelled", 0, false}); }

    void read(std::function<void(read_result)> done) override {
        ws_.async_read(buffer_, [self = this->shared_from_this(), done = std::move(done)](error_code ec, std::size_t) {
            read_result r;
            if (!ec) {
                r.ok = true;
                r.text = beast::buffers_to_string(self->buffer_.data());
                self->buffer_.consume(self->buffer_.size());
            } else if (ec == websocket::error::closed) {
                r.close_code = self->ws_.reason().code;
                if (r.close_code == 0) r.close_code = 1005;   // a close frame without a code
                r.close_reason = std::string(self->ws_.reason().reason.c_str());
            } else {
                r.close_code = 1006;
                r.error = ec == beast::error::timeout ? std::string("no data from the server within the idle timeout")
                                                      : ec.message();
            }
            done(std::move(r));
        });
    }

    void send(std::string text) override {
        if (closing_) return;
        queue_.push_back(std::move(text));
        if (!writing_) do_write();
    }

    void close(std::uint16_t code, std::function<void()> done) override {
        if (closing_) return;
        closing_ = true;
        close_code_ = code;
        close_done_ = std::move(done);
        if (!writing_) do_close();
    }

    void set_idle_timeout(std::chrono::seconds timeout) override {
        websocket::stream_base::timeout opt{close_timeout, timeout, true};
        ws_.set_option(opt);
    }

    void abort() override {
        error_code ec;
        beast::get_lowest_layer(ws_).socket().close(ec);
    }

private:
    void fail(ws_dialer::failure f) {
        if (!done_) return;
        auto done = std::move(done_);
        done_ = nullptr;
        timer_.cancel();
        resolver_.cancel();
        abort();
        done(nullptr, std::move(f));
    }

    void on_resolve(error_code ec, tcp::resolver::results_type results) {
        if (!done_) return;
        if (ec) return fail({"cannot resolve " + settings_.url.host() + ": " + ec.message(), 0, false});
        timer_.cancel();
        beast::get_lowest_layer(ws_).expires_after(step_timeout);
        beast::get_lowest_layer(ws_).async_connect(
            results, [self = this->shared_from_this()](error_code e, tcp::endpoint const&) { self->on_connect(e); });
    }

    void on_connect(error_code ec) {
        if (!done_) return;
        if (ec)
            return fail({"cannot connect to " + settings_.url.host_header() + ": " +
                             (ec == beast::error::timeout ? std::string("timed out") : ec.message()),
                         0, false});
        if constexpr (is_tls) {
            auto& stream = ws_.next_layer();
            std::string const& host = settings_.url.host();
            // SNI names a host, never an address (RFC 6066).
            if (!is_ip_address(host) && !SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
                return fail({"cannot set the TLS server name " + host, 0, true});
            if (settings_.insecure) {
                stream.set_verify_mode(ssl::verify_none);
            } else {
                stream.set_verify_mode(ssl::verify_peer);
                stream.set_verify_callback([this, host](bool preverified, ssl::verify_context& ctx) {
                    bool ok = ssl::host_name_verification(host)(preverified, ctx);
                    if (preverified && !ok) host_mismatch_ = true;
                    return ok;
                });
            }
            beast::get_lowest_layer(ws_).expires_after(step_timeout);
            stream.async_handshake(ssl::stream_base::client,
                                   [self = this->shared_from_this()](error_code e) { self->on_tls_handshake(e); });
        } else {
            upgrade();
        }
    }

    void on_tls_handshake(error_code ec) {
        if (!done_) return;
        if constexpr (is_tls) {
            if (ec) {
                std::string const& host = settings_.url.host();
                if (host_mismatch_)
                    return fail({"the TLS certificate of " + host + " is not valid for that name (--insecure skips the check)",
                                 0, true});
                long verify = SSL_get_verify_result(ws_.next_layer().native_handle());
                if (verify != X509_V_OK)
                    return fail({"the TLS certificate of " + host + " is not trusted: " +
                                     X509_verify_cert_error_string(verify) + " (see --ca-file, --insecure)",
                                 0, true});
                return fail({"TLS handshake with " + settings_.url.host_header() + " failed: " +
                                 (ec == beast::error::timeout ? std::string("timed out") : ec.message()),
                             0, false});
            }
            upgrade();
        }
    }

    void upgrade() {
        beast::get_lowest_layer(ws_).expires_never();
        ws_.set_option(websocket::stream_base::timeout{step_timeout, websocket::stream_base::none(), false});
        ws_.set_option(websocket::stream_base::decorator(
            [auth = settings_.authorization, agent = settings_.user_agent](websocket::request_type& req) {
                req.set(http::field::user_agent, agent);
                if (auth) req.set(http::field::authorization, *auth);
            }));
        ws_.read_message_max(max_message_bytes);
        ws_.async_handshake(response_, settings_.url.host_header(), settings_.url.target(),
                            [self = this->shared_from_this()](error_code ec) { self->on_upgrade(ec); });
    }

    void on_upgrade(error_code ec) {
        if (!done_) return;
        if (ec == websocket::error::upgrade_declined) {
            int status = response_.result_int();
            bool permanent = status >= 400 && status < 500 && status != 408 && status != 429;
            return fail({"the server refused the WebSocket upgrade of " + settings_.url.str() + ": " +
                             std::to_string(status) + " " + std::string(response_.reason()),
                         status, permanent});
        }
        if (ec)
            return fail({"WebSocket upgrade with " + settings_.url.host_header() + " failed: " +
                             (ec == beast::error::timeout ? std::string("timed out") : ec.message()),
                         0, false});
        set_idle_timeout(std::chrono::duration_cast<std::chrono::seconds>(initial_idle_timeout));
        auto done = std::move(done_);
        done_ = nullptr;
        done(this->shared_from_this(), {});
    }

    void do_write() {
        writing_ = true;
        ws_.text(true);
        ws_.async_write(asio::buffer(queue_.front()), [self = this->shared_from_this()](error_code ec, std::size_t) {
            self->queue_.pop_front();
            if (ec) self->queue_.clear();
            if (!self->queue_.empty()) return self->do_write();
            self->writing_ = false;
            if (self->closing_) self->do_close();
        });
    }

    void do_close() {
        ws_.async_close(websocket::close_reason(close_code_), [self = this->shared_from_this()](error_code) {
            if (auto done = std::move(self->close_done_)) done();
        });
    }

    std::shared_ptr<ssl::context> tls_;   // outlives the stream that uses it
    tcp::resolver resolver_;
    asio::steady_timer timer_;
    websocket::stream<Next> ws_;
    beast::flat_buffer buffer_;
    http::response<http::string_body> response_;   // of the upgrade, for its status
    ws_dialer::settings settings_;
    ws_dialer::handler done_;
    bool host_mismatch_ = false;
    std::deque<std::string> queue_;
    bool writing_ = false;
    bool closing_ = false;
    std::uint16_t close_code_ = 1000;
    std::function<void()> close_done_;
};

}  // namespace

struct ws_dialer::impl {
    asio::io_context& io;
    settings s;
    std::shared_ptr<ssl::context> tls;
    std::function<void()> cancel_current;
};

ws_dialer::ws_dialer(asio::io_context& io, settings s) : impl_(std::make_shared<impl>(impl{io, std::move(s), {}, {}})) {
    if (!impl_->s.url.tls()) return;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    if (impl_->s.ca_file) {
        ctx->load_verify_file(*impl_->s.ca_file, ec);
        if (ec) throw std::runtime_error("--ca-file " + *impl_->s.ca_file + ": cannot load the certificates: " + ec.message());
    } else if (!impl_->s.insecure) {
        ctx->set_default_verify_paths(ec);
        if (ec) throw std::runtime_error("cannot load the system's CA certificates: " + ec.message());
    }
    impl_->tls = std::move(ctx);
}

ws_dialer::~ws_dialer() = default;

void ws_dialer::dial(handler done) {
    if (impl_->s.url.tls()) {
        auto c = std::make_shared<beast_connection<beast::ssl_stream<beast::tcp_stream>>>(impl_->io, impl_->tls);
        impl_->cancel_current = [weak = std::weak_ptr(c)] {
            if (auto live = weak.lock()) live->cancel_dial();
        };
        c->open(impl_->s, std::move(done));
    } else {
        auto c = std::make_shared<beast_connection<beast::tcp_stream>>(impl_->io);
        impl_->cancel_current = [weak = std::weak_ptr(c)] {
            if (auto live = weak.lock()) live->cancel_dial();
        };
        c->open(impl_->s, std::move(done));
    }
}

void ws_dialer::cancel() {
    if (auto cancel = std::move(impl_->cancel_current)) cancel();
    impl_->cancel_current = nullptr;
}

}  // namespace kp::cli
