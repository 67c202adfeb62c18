#pragma once
// Delivers the webhooks one shard runs (PROTOCOL.md section 7), on that shard's event loop:
// per webhook and channel, one request in flight, in offset order; a request is prepared on
// the blocking pool (server/webhooks/delivery_builder), sent by the shard's outbound client,
// and its position saved in the store (blocking pool) before the next one leaves. A failure
// is retried, the same request with the same webhook-id, after webhooks::retry_policy's
// delay; 410, or failures lasting --webhook-disable-after, disable the webhook.
//
// Public calls come from any thread and are posted to the loop; everything else runs on it.

#include "server/outbound/outbound_client.hpp"
#include "server/webhooks/delivery_builder.hpp"
#include "server/webhooks/webhook_context.hpp"
#include "webhooks/retry_policy.hpp"
#include "webhooks/target_url.hpp"
#include "webhooks/webhook_definition.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace kp::server {

class webhook_runner : public std::enable_shared_from_this<webhook_runner> {
public:
    webhook_runner(boost::asio::io_context& loop, webhook_context& context);

    // Starts delivering from the stored positions (a channel without one starts at its last
    // offset: from now on).
    void start(webhooks::webhook_definition definition, std::vector<store::webhook_position> positions);
    // The stored definition changed (PATCH, replay, disable): applies it in place; channels
    // added start from their stored positions, and so do the replays of a new revision.
    void update(webhooks::webhook_definition definition, std::vector<store::webhook_position> positions);
    void stop(std::string id);
    // New events on these channels.
    void poke(std::vector<std::string> channels);
    void poke_all();
    void shutdown();

private:
    enum class phase { idle, preparing, sending, saving, waiting };
    struct channel_run {
        webhooks::cursor_position at;
        phase now = phase::idle;
        bool dirty = false;                           // poked while busy: look again after
        std::optional<prepared_delivery> pending;     // the request being sent or retried
        std::optional<webhooks::cursor_position> replay_to;   // asked while busy
        unsigned failures = 0;
        std::int64_t failing_since_ms = 0;
        std::int64_t next_attempt_ms = 0;
        std::uint64_t last_offset = 0;
        std::unique_ptr<boost::asio::steady_timer> retry;
    };
    struct webhook_run {
        webhooks::webhook_definition definition;
        std::optional<webhooks::target_url> target;
        std::uint64_t generation = 0;
        std::map<std::string, channel_run> channels;
    };

    void add_channel(webhook_run& run, std::string const& channel, std::vector<store::webhook_position> const& positions);
    void pump(webhook_run& run, std::string const& channel);
    void on_prepared(std::string const& id, std::uint64_t generation, std::string const& channel, delivery_lookup lookup);
    void send(webhook_run& run, std::string const& channel);
    void on_sent(std::string const& id, std::uint64_t generation, std::string const& channel, outbound_result result);
    void on_saved(std::string const& id, std::uint64_t generation, std::string const& channel, bool kept);
    void fail(webhook_run& run, channel_run& c, std::string const& channel, outbound_result const& result);
    void disable(webhook_run& run, std::string reason);
    // A replay asked while the channel was busy takes effect now; true when it did.
    bool apply_replay(webhook_run& run, channel_run& c, std::string const& channel);
    void publish(webhook_run const& run, std::string const& channel);
    webhook_run* find(std::string const& id, std::uint64_t generation);

    boost::asio::io_context& loop_;
    webhook_context& context_;
    std::shared_ptr<outbound_client> client_;
    webhooks::retry_policy retries_;
    std::mt19937_64 random_;
    std::uint64_t generations_ = 0;
    std::unordered_map<std::string, webhook_run> runs_;
};

}  // namespace kp::server
