#include "server/outbound/outbound_client.hpp"

#include "server/outbound/outbound_connection.hpp"
#include "webhooks/address_guard.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <string_view>

namespace kp::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string seconds_text(std::chrono::milliseconds duration) {
    if (duration.count() % 1000 == 0) return std::to_string(duration.count() / 1000) + " s";
    return std::to_string(duration.count()) + " ms";
}

bool has_line_break(std::string const& text) {
    return text.find_first_of("\r\n") != std::string::npos;
}

// A field name is an HTTP token (RFC 9110 section 5.6.2).
bool is_field_name(std::string const& name) {
    static constexpr std::string_view punctuation = "!#$%&'*+-.^_`|~";
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || punctuation.find(static_cast<char>(c)) != std::string_view::npos;
    });
}

}  // namespace

struct outbound_client::pending {
    pending(asio::any_io_executor const& executor, outbound_request request_in,
            std::function<void(outbound_result)> done_in)
        : url(std::move(request_in.url)), done(std::move(done_in)), timer(executor), resolver(executor) {
        request.method(http::verb::post);
        request.target(url.target);
        request.version(11);
        request.set(http::field::host, url.host_header);
        request.set(http::field::user_agent, "kinto-push/" KINTO_PUSH_VERSION);
        request.set(http::field::content_type, "application/json");
        for (auto& [name, value] : request_in.headers) request.set(name, value);
        request.keep_alive(true);
        request.body() = std::move(request_in.body);
        request.prepare_payload();
        key = (url.tls ? "https://" : "http://") + url.host_header;
    }

    webhooks::target_url url;
    std::string key;
    http::request<http::string_body> request;
    std::function<void(outbound_result)> done;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    asio::steady_timer timer;
    unsigned timer_generation = 0;
    bool timed_out = false;
    tcp::resolver resolver;
    std::shared_ptr<outbound_connection> connection;
    bool reused = false;
    bool retried = false;
    bool shutting_down = false;
    bool finished = false;
};

outbound_client::outbound_client(asio::any_io_executor executor, outbound_options options,
                                 std::shared_ptr<asio::ssl::context> tls)
    : executor_(std::move(executor)), options_(options), tls_(tls ? std::move(tls) : default_tls_context()) {}

outbound_client::~outbound_client() {
    for (auto& [key, connections] : idle_) {
        for (auto& connection : connections) connection->close();
    }
}

std::shared_ptr<asio::ssl::context> outbound_client::default_tls_context() {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    context->set_default_verify_paths();
    context->set_verify_mode(asio::ssl::verify_peer);
    return context;
}

std::size_t outbound_client::idle_connections() const {
    std::size_t count = 0;
    for (auto const& [key, connections] : idle_) count += connections.size();
    return count;
}

void outbound_client::post(outbound_request request, std::function<void(outbound_result)> done) {
    auto refuse = [&](std::string error) {
        asio::post(executor_, [done = std::move(done), error = std::move(error)] {
            done(outbound_result{0, error, std::chrono::milliseconds{0}});
        });
    };
    if (shut_down_) return refuse("shutdown");
    for (auto const& [name, value] : request.headers) {
        if (!is_field_name(name) || has_line_break(value)) {
            return refuse("invalid request header " + name);
        }
    }
    auto attempt = std::make_shared<pending>(executor_, std::move(request), std::move(done));
    in_flight_.insert(attempt);
    start(attempt, true);
}

void outbound_client::shutdown() {
    shut_down_ = true;
    auto const attempts = in_flight_;
    for (auto const& attempt : attempts) {
        attempt->shutting_down = true;
        ++attempt->timer_generation;
        attempt->timer.cancel();
        attempt->resolver.cancel();
        if (attempt->connection) attempt->connection->close();
    }
    // The handlers of the cancelled operations hold their attempt and finish it when the loop
    // runs them; should the loop stop first, nothing here keeps an attempt (and its callback)
    // alive.
    in_flight_.clear();
    for (auto& [key, connections] : idle_) {
        for (auto& connection : connections) connection->close();
    }
    idle_.clear();
}

void outbound_client::start(std::shared_ptr<pending> const& attempt, bool allow_reuse) {
    if (allow_reuse) {
        if (auto connection = take_idle(attempt->key)) {
            attempt->reused = true;
            attempt->connection = connection;
            send(attempt, connection);
            return;
        }
    }
    open(attempt);
}

void outbound_client::arm_timer(std::shared_ptr<pending> const& attempt, std::chrono::milliseconds timeout) {
    auto const generation = ++attempt->timer_generation;
    attempt->timed_out = false;
    attempt->timer.expires_after(timeout);
    attempt->timer.async_wait([attempt, generation](beast::error_code ec) {
        if (ec || generation != attempt->timer_generation || attempt->finished) return;
        attempt->timed_out = true;
        attempt->resolver.cancel();
        if (attempt->connection) attempt->connection->close();
    });
}

void outbound_client::open(std::shared_ptr<pending> const& attempt) {
    attempt->reused = false;
    attempt->connection.reset();
    arm_timer(attempt, options_.connect_timeout);
    boost::system::error_code literal_error;
    auto const literal = asio::ip::make_address(attempt->url.host, literal_error);
    if (!literal_error) {
        connect(attempt, {tcp::endpoint{literal, attempt->url.port}});
        return;
    }
    attempt->resolver.async_resolve(
        attempt->url.host, std::to_string(attempt->url.port),
        [self = shared_from_this(), attempt](beast::error_code ec, tcp::resolver::results_type results) {
            if (attempt->shutting_down) return self->finish(attempt, 0, "shutdown");
            if (attempt->timed_out) {
                return self->finish(attempt, 0, "no connection within " + seconds_text(self->options_.connect_timeout));
            }
            if (ec) return self->finish(attempt, 0, "could not resolve " + attempt->url.host + ": " + ec.message());
            std::vector<tcp::endpoint> endpoints;
            for (auto const& entry : results) endpoints.push_back(entry.endpoint());
            self->connect(attempt, std::move(endpoints));
        });
}

void outbound_client::connect(std::shared_ptr<pending> const& attempt, std::vector<tcp::endpoint> endpoints) {
    std::vector<tcp::endpoint> allowed;
    std::string refusal;
    for (auto const& endpoint : endpoints) {
        auto const refused = options_.allow_private ? std::nullopt : webhooks::refused_address(endpoint.address());
        if (!refused) {
            allowed.push_back(endpoint);
        } else if (refusal.empty()) {
            refusal = "refused address " + endpoint.address().to_string() + " (" + *refused + ")";
        }
    }
    if (allowed.empty()) {
        if (refusal.empty()) refusal = "no address for " + attempt->url.host;
        // Through the executor: done() is never called from inside post().
        asio::post(executor_, [self = shared_from_this(), attempt, refusal] { self->finish(attempt, 0, refusal); });
        return;
    }
    auto connection = std::make_shared<outbound_connection>(executor_, attempt->url.tls ? tls_ : nullptr,
                                                            attempt->url.host);
    attempt->connection = connection;
    connection->connect(std::move(allowed), [self = shared_from_this(), attempt, connection](std::string error) {
        if (attempt->shutting_down) return self->finish(attempt, 0, "shutdown");
        if (attempt->timed_out) {
            connection->close();
            return self->finish(attempt, 0, "no connection within " + seconds_text(self->options_.connect_timeout));
        }
        if (!error.empty()) {
            connection->close();
            return self->finish(attempt, 0, error);
        }
        self->send(attempt, connection);
    });
}

void outbound_client::send(std::shared_ptr<pending> const& attempt, std::shared_ptr<outbound_connection> const& connection) {
    arm_timer(attempt, options_.response_timeout);
    connection->exchange(attempt->request, options_.max_response_bytes,
                         [self = shared_from_this(), attempt, connection](outbound_connection::exchange_result result) {
                             if (attempt->shutting_down) {
                                 connection->close();
                                 return self->finish(attempt, 0, "shutdown");
                             }
                             if (attempt->timed_out) {
                                 connection->close();
                                 return self->finish(attempt, 0,
                                                     "no answer within " + seconds_text(self->options_.response_timeout));
                             }
                             if (!result.error.empty()) {
                                 connection->close();
                                 // A kept-alive connection the peer closed meanwhile: once more
                                 // on a new one.
                                 if (attempt->reused && result.nothing_received && !attempt->retried) {
                                     attempt->retried = true;
                                     return self->open(attempt);
                                 }
                                 return self->finish(attempt, 0, std::move(result.error));
                             }
                             if (result.reusable && !self->shut_down_) {
                                 self->park(attempt->key, connection);
                             } else {
                                 connection->close();
                             }
                             self->finish(attempt, result.status, {});
                         });
}

void outbound_client::finish(std::shared_ptr<pending> const& attempt, unsigned status, std::string error) {
    if (attempt->finished) return;
    attempt->finished = true;
    if (attempt->shutting_down) {
        status = 0;
        error = "shutdown";
    }
    ++attempt->timer_generation;
    attempt->timer.cancel();
    attempt->connection.reset();
    in_flight_.erase(attempt);
    auto const elapsed = std::chrono::steady_clock::now() - attempt->started;
    auto done = std::move(attempt->done);
    done(outbound_result{status, std::move(error), std::chrono::duration_cast<std::chrono::milliseconds>(elapsed)});
}

std::shared_ptr<outbound_connection> outbound_client::take_idle(std::string const& key) {
    auto found = idle_.find(key);
    if (found == idle_.end()) return nullptr;
    auto& connections = found->second;
    while (!connections.empty()) {
        auto connection = std::move(connections.back());
        connections.pop_back();
        connection->unpark();
        if (connection->is_open()) {
            if (connections.empty()) idle_.erase(found);
            return connection;
        }
    }
    idle_.erase(found);
    return nullptr;
}

void outbound_client::park(std::string const& key, std::shared_ptr<outbound_connection> const& connection) {
    auto& connections = idle_[key];
    if (connections.size() >= options_.max_idle_per_host) {
        connection->close();
        return;
    }
    connections.push_back(connection);
    std::weak_ptr<outbound_client> weak_self = shared_from_this();
    std::weak_ptr<outbound_connection> weak_connection = connection;
    connection->park(options_.idle_timeout, [weak_self, weak_connection, key] {
        auto self = weak_self.lock();
        auto expired = weak_connection.lock();
        if (!self || !expired) return;
        expired->close();
        auto found = self->idle_.find(key);
        if (found == self->idle_.end()) return;
        auto& list = found->second;
        list.erase(std::remove(list.begin(), list.end(), expired), list.end());
        if (list.empty()) self->idle_.erase(found);
    });
}

}  // namespace kp::server
