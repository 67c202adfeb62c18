#pragma once
// The link of a redis_store to Redis: a connection for commands and one for the Pub/Sub
// subscription, kept up. Either one lost, both are closed and opened again after a backoff
// with jitter; once the owner synced, a PING a second finds a Redis that stopped answering.
// The Lua scripts are loaded at each connection and called by their SHA (by their source
// after a SCRIPT FLUSH). Every member runs on the event loop's thread unless it says otherwise.

#include "store/redis_endpoint.hpp"
#include "store/redis_reply.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace kp::store {

class redis_connection;

class redis_link {
public:
    using reply_handler = std::function<void(redis_reply)>;

    // What the link tells its owner, on the event loop's thread.
    struct handlers {
        std::function<void()> subscribed;                          // connected and subscribed: sync now
        std::function<void(std::string const& text)> message;      // a message on the topic
        std::function<bool(std::string const& why)> lost;          // the link is lost; true if it was synced
    };

    // Throws store_error when the TLS setup fails (rediss:// and CA certificates that cannot be
    // loaded). `scripts` are the Lua sources eval() calls by index.
    redis_link(boost::asio::io_context& io, redis_endpoint endpoint, std::optional<std::string> const& tls_ca,
               std::chrono::milliseconds timeout, std::string topic, std::vector<std::string_view> scripts,
               handlers on);

    // Opens both connections, subscribes to the topic; subscribed() follows.
    void connect();
    // Loads the scripts (SCRIPT LOAD), then `done`; a refusal loses the link.
    void load_scripts(std::function<void()> done);
    // The owner synced: the backoff starts again from its minimum, the watchdog runs.
    void synced();
    // Closes both connections, tells the owner, reconnects after the backoff.
    void lost(std::string const& why);

    // A command; an error reply when the link is down.
    void send(std::vector<std::string> args, reply_handler handler);
    // A script by its index in `scripts`.
    void eval(std::size_t script, std::vector<std::string> args, reply_handler handler);
    // A script not among `scripts`: by its SHA1, by its source after a NOSCRIPT. `arguments`
    // start with the number of keys, as EVAL's do; `source` outlives the call (a literal).
    void eval_source(std::string_view source, std::vector<std::string> arguments, reply_handler handler);

    // Bumped at each connection attempt and loss: callbacks of an older one are ignored. Any thread.
    std::uint64_t generation() const { return generation_.load(); }

    // Any thread: no reconnection from now on.
    void stop_reconnecting() { stopping_ = true; }
    // Closes everything for good.
    void close();

private:
    void on_push(redis_reply reply);
    void load_script(std::uint64_t generation, std::size_t index, std::function<void()> done);
    void watch(std::uint64_t generation);   // a PING a second: a Redis that stopped answering is lost

    boost::asio::io_context& io_;
    redis_endpoint endpoint_;
    std::unique_ptr<boost::asio::ssl::context> tls_;
    std::chrono::milliseconds timeout_;
    std::string topic_;
    std::vector<std::string_view> scripts_;
    std::vector<std::string> shas_;
    handlers on_;

    std::shared_ptr<redis_connection> commands_;
    std::shared_ptr<redis_connection> events_;
    boost::asio::steady_timer retry_;
    boost::asio::steady_timer watchdog_;
    bool ping_outstanding_ = false;
    bool syncing_ = false;
    std::chrono::milliseconds backoff_;
    std::mt19937 jitter_{std::random_device{}()};
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<bool> stopping_{false};
};

}  // namespace kp::store
