#pragma once
// The history shared by several kinto-push nodes, in Redis. Offsets are assigned in Redis by
// one Lua script per group of transactions (redis_scripts::publish): it increments each
// channel's offset, appends to the channel's stream (bounded by --history-size), keeps the
// dedupe key with the history's TTL, and publishes each transaction on a Pub/Sub topic that
// every node (the publisher too) subscribes to. Fan-out is therefore the store's: each node
// hands what it receives to its announcer, in offset order, one transaction at a time.
//
// This node's view of a channel (its head, `last`, and a memory tail of recent events) moves
// only as events are announced, before the announcer is called: the head a session plans
// from is always one whose later offsets still reach it live, as with the other stores. A node
// that sees an offset gap (a Pub/Sub message lost while its link was down) reads the missing
// range from the stream before announcing anything later.
//
// The Redis link (redis_link) is asynchronous, on the store's own Asio thread; the view of
// the channels (redis_channel_view) is plain state, guarded here by one mutex. Calls that wait
// (append_group, reads older than the memory tail, trim, a timestamp position the tail cannot
// answer) cross to that thread (redis_blocking_bridge) and wait with a deadline, throwing
// store_error; while Redis is away they fail at once.

#include "store/history_store.hpp"
#include "store/redis_blocking_bridge.hpp"
#include "store/redis_channel_view.hpp"
#include "store/redis_endpoint.hpp"
#include "store/redis_link.hpp"
#include "store/redis_reply.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kp::store {

struct redis_options {
    std::optional<std::string> password;   // overrides the URL's
    std::optional<std::string> tls_ca;     // PEM file of CAs to trust for rediss:// (else the system's)
    std::string prefix = "kp:";            // every key and the Pub/Sub topic start with it
    std::chrono::milliseconds timeout{2000};          // one command's deadline
    std::chrono::milliseconds startup_timeout{5000};  // the first connection's
};

class redis_store final : public history_store {
public:
    // Connects (waits for the first connection, up to startup_timeout); throws store_error
    // naming the endpoint when Redis does not answer, refuses the login, or the TLS setup fails.
    redis_store(redis_endpoint endpoint, retention limits, std::size_t cache_size, redis_options options = {});
    ~redis_store() override;

    std::string kind() const override { return "redis"; }
    std::string epoch() const override;
    std::vector<std::vector<appended_event>> append_group(
        std::span<std::vector<append_event> const> transactions) override;
    bool read_in_memory(std::string const& channel, std::uint64_t after) override;
    std::vector<event_record> read(std::string const& channel, std::uint64_t after, std::size_t limit) override;
    channel_span span(std::string const& channel) override;
    timestamp_position position_after(std::string const& channel, std::int64_t timestamp) override;
    std::optional<timestamp_position> position_in_memory(std::string const& channel, std::int64_t timestamp) override;
    std::vector<std::string> channels_with_prefix(std::string const& prefix) override;
    void trim(std::int64_t now_ms) override;
    bool healthy() override { return ready_.load(); }
    bool announces_events() const override { return true; }
    void set_announcer(event_sink announce, std::function<void()> history_lost) override;

    // For the other stores that share this node's Redis link (redis_webhook_store,
    // redis_cluster_subscribers). Any thread but the store's own; they block until Redis
    // answers and throw store_error when it is unavailable or does not answer within the
    // command timeout. Error replies are returned, not thrown.
    std::string const& key_prefix() const { return options_.prefix; }
    std::string describe() const { return endpoint_.describe(); }
    // Commands sent together (pipelined), one reply each, in order.
    std::vector<redis_reply> pipeline(std::vector<std::vector<std::string>> commands);
    // A Lua script by its source (EVALSHA, EVAL after a NOSCRIPT); `source` must outlive the call
    // (a string literal).
    redis_reply script(std::string_view source, std::vector<std::string> const& keys,
                       std::vector<std::string> const& args);

private:
    // Event-loop thread: syncing the view after each connection, then feeding it.
    void on_subscribed();
    void load_heads(std::uint64_t generation);
    void on_heads(std::uint64_t generation, redis_reply const& offsets, redis_reply const& trimmed);
    bool on_lost(std::string const& why);
    void on_message(std::string const& text);
    void drain();
    void fill(std::uint64_t generation, redis_channel_view::fetch range);
    void announce(std::vector<event_record> const& records);

    // Other threads: commands run on the event loop, the caller waits for the replies
    // (store_error when the link is down or the deadline passes).
    redis_reply call(std::vector<std::string> args);
    redis_reply call_script(std::size_t script, std::vector<std::string> args);
    // The same script once per argument list, pipelined; one reply each.
    std::vector<redis_reply> call_each(std::size_t script, std::vector<std::vector<std::string>> args);

    redis_endpoint endpoint_;
    retention limits_;
    redis_options options_;
    std::string topic_;

    boost::asio::io_context io_{1};
    redis_link link_;   // event-loop thread
    redis_blocking_bridge bridge_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;

    std::atomic<bool> ready_{false};

    mutable std::mutex state_mutex_;
    std::condition_variable state_changed_;
    redis_channel_view view_;
    bool first_sync_done_ = false;
    std::string last_error_;

    std::mutex announcer_mutex_;   // held while announcing: after set_announcer({}), no more calls
    event_sink announce_;
    std::function<void()> history_lost_;
};

}  // namespace kp::store
