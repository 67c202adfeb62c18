#include "store/redis_connection.hpp"

#include "store/resp_encoder.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

namespace kp::store {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

redis_connection::redis_connection(asio::io_context& io, redis_endpoint endpoint, asio::ssl::context* tls,
                                   std::string name, push_handler on_push, closed_handler on_closed)
    : endpoint_(std::move(endpoint)),
      name_(std::move(name)),
      socket_(io),
      resolver_(io),
      deadline_(io),
      on_push_(std::move(on_push)),
      on_closed_(std::move(on_closed)) {
    if (endpoint_.tls && tls) {
        tls_.emplace(socket_, *tls);
        tls_->set_verify_mode(asio::ssl::verify_peer);
        tls_->set_verify_callback(asio::ssl::host_name_verification(endpoint_.host));
        SSL_set_tlsext_host_name(tls_->native_handle(), endpoint_.host.c_str());
    }
}

template <class F>
void redis_connection::with_stream(F&& f) {
    if (tls_) f(*tls_);
    else f(socket_);
}

void redis_connection::open(std::chrono::milliseconds deadline, std::function<void(std::string const&)> done) {
    auto self = shared_from_this();
    auto finish = std::make_shared<std::function<void(std::string const&)>>(
        [self, done = std::move(done)](std::string const& why) mutable {
            if (!done) return;
            auto call = std::move(done);
            done = nullptr;
            self->deadline_.cancel();
            if (!why.empty()) self->close();
            else self->open_ = true;
            call(why);
        });
    deadline_.expires_after(deadline);
    deadline_.async_wait([self, finish](boost::system::error_code ec) {
        if (!ec) (*finish)("timed out connecting");
    });
    resolver_.async_resolve(
        endpoint_.host, std::to_string(endpoint_.port),
        [self, finish](boost::system::error_code ec, tcp::resolver::results_type results) {
            if (ec) return (*finish)("cannot resolve the host: " + ec.message());
            asio::async_connect(self->socket_, results, [self, finish](boost::system::error_code ec2, tcp::endpoint) {
                if (ec2) return (*finish)(ec2.message());
                self->socket_.set_option(tcp::no_delay(true));
                auto logged_in = [self, finish] {
                    self->do_read();
                    self->login([finish](std::string const& why) { (*finish)(why); });
                };
                if (!self->tls_) return logged_in();
                self->tls_->async_handshake(asio::ssl::stream_base::client,
                                            [finish, logged_in](boost::system::error_code ec3) {
                                                if (ec3) return (*finish)("TLS handshake: " + ec3.message());
                                                logged_in();
                                            });
            });
        });
}

void redis_connection::login(std::function<void(std::string const&)> done) {
    auto self = shared_from_this();
    auto select = [self, done] {
        self->send({"CLIENT", "SETNAME", self->name_}, nullptr);
        if (self->endpoint_.db == 0) return done("");
        self->send({"SELECT", std::to_string(self->endpoint_.db)}, [done](redis_reply r) {
            done(r.is_error() ? "SELECT: " + r.text : "");
        });
    };
    if (!endpoint_.password) return select();
    std::vector<std::string> auth{"AUTH"};
    if (endpoint_.username) auth.push_back(*endpoint_.username);
    auth.push_back(*endpoint_.password);
    send(auth, [done, select](redis_reply r) {
        if (r.is_error()) return done("AUTH: " + r.text);
        select();
    });
}

void redis_connection::send(std::vector<std::string> const& args, reply_handler handler) {
    if (closed_) {
        if (handler) handler(redis_reply::error("connection lost"));
        return;
    }
    resp_encoder::append(outgoing_, args);
    pending_.push_back(std::move(handler));
    if (!write_in_flight_) do_write();
}

void redis_connection::subscribe(std::string const& topic) {
    if (closed_) return;
    subscribed_ = true;
    resp_encoder::append(outgoing_, {"SUBSCRIBE", topic});
    if (!write_in_flight_) do_write();
}

void redis_connection::do_write() {
    if (outgoing_.empty() || closed_) return;
    write_in_flight_ = true;
    writing_.swap(outgoing_);
    outgoing_.clear();
    with_stream([this](auto& stream) {
        asio::async_write(stream, asio::buffer(writing_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              self->write_in_flight_ = false;
                              if (ec) return self->fail("write: " + ec.message());
                              self->writing_.clear();
                              self->do_write();
                          });
    });
}

void redis_connection::do_read() {
    if (closed_) return;
    with_stream([this](auto& stream) {
        stream.async_read_some(asio::buffer(buffer_),
                               [self = shared_from_this()](boost::system::error_code ec, std::size_t size) {
                                   if (ec) return self->fail(ec == asio::error::eof ? "closed by Redis" : ec.message());
                                   self->on_read(size);
                               });
    });
}

void redis_connection::on_read(std::size_t size) {
    if (closed_) return;
    if (!reader_.feed(buffer_.data(), size)) return fail("bad reply: " + reader_.error());
    while (auto reply = reader_.next()) {
        if (subscribed_ && pending_.empty()) {
            if (on_push_) on_push_(std::move(*reply));
        } else if (!pending_.empty()) {
            auto handler = std::move(pending_.front());
            pending_.pop_front();
            if (handler) handler(std::move(*reply));
        }
        if (closed_) return;
    }
    if (reader_.failed()) return fail("bad reply: " + reader_.error());
    do_read();
}

void redis_connection::fail(std::string const& why) {
    if (closed_) return;
    bool const was_open = open_;
    close();
    if (was_open && on_closed_) on_closed_(why);
}

void redis_connection::close() {
    if (closed_) return;
    closed_ = true;
    open_ = false;
    boost::system::error_code ignored;
    resolver_.cancel();
    deadline_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& handler : pending)
        if (handler) handler(redis_reply::error("connection lost"));
}

}  // namespace kp::store
