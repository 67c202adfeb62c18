#include "store/redis_link.hpp"

#include "store/redis_connection.hpp"
#include "store/store_error.hpp"
#include "text/hex.hpp"

#include <openssl/sha.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include <unistd.h>

namespace kp::store {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds max_backoff{5000};
constexpr std::chrono::milliseconds min_backoff{100};

}  // namespace

redis_link::redis_link(asio::io_context& io, redis_endpoint endpoint, std::optional<std::string> const& tls_ca,
                       std::chrono::milliseconds timeout, std::string topic, std::vector<std::string_view> scripts,
                       handlers on)
    : io_(io),
      endpoint_(std::move(endpoint)),
      timeout_(timeout),
      topic_(std::move(topic)),
      scripts_(std::move(scripts)),
      shas_(scripts_.size()),
      on_(std::move(on)),
      retry_(io),
      watchdog_(io),
      backoff_(min_backoff) {
    if (endpoint_.tls) {
        tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
        boost::system::error_code ec;
        if (tls_ca) tls_->load_verify_file(*tls_ca, ec);
        else tls_->set_default_verify_paths(ec);
        if (ec)
            throw store_error(endpoint_.describe() + ": cannot load the CA certificates" +
                              (tls_ca ? " " + *tls_ca : std::string()) + ": " + ec.message());
    }
}

void redis_link::connect() {
    if (stopping_) return;
    auto const generation = ++generation_;
    std::string const pid = std::to_string(::getpid());
    commands_ = std::make_shared<redis_connection>(io_, endpoint_, tls_.get(), "kinto-push-commands-" + pid, nullptr,
                                                   [this, generation](std::string const& why) {
                                                       if (generation == generation_) lost("commands: " + why);
                                                   });
    events_ = std::make_shared<redis_connection>(
        io_, endpoint_, tls_.get(), "kinto-push-events-" + pid,
        [this, generation](redis_reply reply) {
            if (generation == generation_) on_push(std::move(reply));
        },
        [this, generation](std::string const& why) {
            if (generation == generation_) lost("subscription: " + why);
        });
    commands_->open(timeout_, [this, generation](std::string const& why) {
        if (generation != generation_) return;
        if (!why.empty()) return lost(why);
        events_->open(timeout_, [this, generation](std::string const& why2) {
            if (generation != generation_) return;
            if (!why2.empty()) return lost(why2);
            // Subscribe before the owner reads the heads: whatever is published after the heads
            // were read arrives on the subscription. The confirmation (on_push) goes on.
            syncing_ = true;
            events_->subscribe(topic_);
        });
    });
}

void redis_link::on_push(redis_reply reply) {
    if (reply.type != redis_reply::kind::array || reply.elements.empty()) return;
    auto const& what = reply.elements[0].text;
    if (what == "subscribe") {
        if (syncing_) on_.subscribed();
        return;
    }
    if (what != "message" || reply.elements.size() < 3) return;
    on_.message(reply.elements[2].text);
}

void redis_link::load_scripts(std::function<void()> done) { load_script(generation_, 0, std::move(done)); }

void redis_link::load_script(std::uint64_t generation, std::size_t index, std::function<void()> done) {
    if (index == scripts_.size()) return done();
    send({"SCRIPT", "LOAD", std::string(scripts_[index])},
         [this, generation, index, done = std::move(done)](redis_reply reply) mutable {
             if (generation != generation_) return;
             if (reply.type != redis_reply::kind::string) return lost("SCRIPT LOAD: " + reply.text);
             shas_[index] = reply.text;
             load_script(generation, index + 1, std::move(done));
         });
}

void redis_link::synced() {
    syncing_ = false;
    backoff_ = min_backoff;
    ping_outstanding_ = false;
    watch(generation_);
}

void redis_link::lost(std::string const& why) {
    ++generation_;
    bool const was_synced = on_.lost(why);
    watchdog_.cancel();
    if (commands_) commands_->close();
    if (events_) events_->close();
    syncing_ = false;
    if (stopping_) return;
    if (was_synced) spdlog::warn("redis: lost {}: {}; reconnecting", endpoint_.describe(), why);
    else spdlog::debug("redis: {}: {}", endpoint_.describe(), why);
    // Exponential backoff with jitter: nodes restarting together do not reconnect in step.
    std::uniform_int_distribution<long> spread(backoff_.count() / 2, backoff_.count());
    retry_.expires_after(std::chrono::milliseconds(spread(jitter_)));
    backoff_ = std::min(backoff_ * 2, max_backoff);
    retry_.async_wait([this](boost::system::error_code ec) {
        if (!ec) connect();
    });
}

void redis_link::watch(std::uint64_t generation) {
    watchdog_.expires_after(std::chrono::seconds(1));
    watchdog_.async_wait([this, generation](boost::system::error_code ec) {
        if (ec || generation != generation_) return;
        if (ping_outstanding_) return lost("no answer to PING within a second");
        ping_outstanding_ = true;
        send({"PING"}, [this, generation](redis_reply) {
            if (generation == generation_) ping_outstanding_ = false;
        });
        watch(generation);
    });
}

void redis_link::send(std::vector<std::string> args, reply_handler handler) {
    if (!commands_ || !commands_->is_open()) {
        if (handler) handler(redis_reply::error("Redis unavailable"));
        return;
    }
    commands_->send(args, std::move(handler));
}

void redis_link::eval(std::size_t script, std::vector<std::string> args, reply_handler handler) {
    std::vector<std::string> command{"EVALSHA", shas_[script], "0"};
    command.insert(command.end(), args.begin(), args.end());
    send(std::move(command), [this, script, args = std::move(args), handler](redis_reply reply) mutable {
        if (!reply.is_error() || !reply.text.starts_with("NOSCRIPT")) return handler(std::move(reply));
        // The script cache was flushed (SCRIPT FLUSH, a failover): send the source.
        std::vector<std::string> again{"EVAL", std::string(scripts_[script]), "0"};
        again.insert(again.end(), args.begin(), args.end());
        send(std::move(again), std::move(handler));
    });
}

void redis_link::eval_source(std::string_view source, std::vector<std::string> arguments, reply_handler handler) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    ::SHA1(reinterpret_cast<unsigned char const*>(source.data()), source.size(), digest);
    std::vector<std::string> command{
        "EVALSHA", text::hex_encode(std::string_view(reinterpret_cast<char const*>(digest), sizeof digest))};
    command.insert(command.end(), arguments.begin(), arguments.end());
    send(std::move(command),
         [this, source, arguments = std::move(arguments), handler](redis_reply reply) mutable {
             if (!reply.is_error() || !reply.text.starts_with("NOSCRIPT")) return handler(std::move(reply));
             std::vector<std::string> again{"EVAL", std::string(source)};
             again.insert(again.end(), arguments.begin(), arguments.end());
             send(std::move(again), std::move(handler));
         });
}

void redis_link::close() {
    ++generation_;
    retry_.cancel();
    watchdog_.cancel();
    if (commands_) commands_->close();
    if (events_) events_->close();
}

}  // namespace kp::store
