#pragma once
// Which webhooks this node delivers, and on which shard (PROTOCOL.md section 7). Every second,
// on the blocking pool, it reads the stored webhooks, takes or renews the lease of each enabled
// one (with Redis exactly one node holds it; another takes over when it expires, within
// lease_ttl + sync_period; the SQLite and memory stores grant every lease), and starts, updates
// or stops the shards' runners to match. The hub's publish observer pokes the runners whose
// webhooks follow a channel with new events; every few seconds every runner looks again
// anyway.

#include "server/webhooks/webhook_context.hpp"
#include "server/webhooks/webhook_runner.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace kp::server {

class webhook_service {
public:
    static constexpr std::chrono::milliseconds lease_ttl{5000};
    static constexpr std::chrono::milliseconds sync_period{1000};

    // `loops`: the shards' event loops (one runner each); `control`: where the timer runs.
    webhook_service(webhook_context& context, std::vector<boost::asio::io_context*> const& loops,
                    boost::asio::io_context& control);

    void start();
    // Stops the runners and gives the leases back (another node takes over at once). Blocks.
    void stop();

    // A stored webhook changed (the endpoint wrote it, a runner disabled it): sync now.
    void changed(std::string const& id);
    // The hub's publish observer: under the publish lock, so only posts.
    void observe(std::vector<channels::message_ptr> const& batch);

    // Counts by status (active, retrying, disabled) of the webhooks stored, as of the last sync.
    struct status_counts {
        std::size_t active = 0, retrying = 0, disabled = 0;
    };
    status_counts counts() const;
    // True when this node delivers the webhook (its progress is on the board).
    bool delivers(std::string const& id) const;

private:
    struct known {
        std::string text;
        bool running = false;
    };
    void schedule_tick();
    void request_sync();
    void sync();
    webhook_runner& runner_of(std::string const& id);

    webhook_context& context_;
    boost::asio::steady_timer tick_;
    std::vector<std::shared_ptr<webhook_runner>> runners_;
    std::atomic<bool> syncing_{false};
    std::atomic<bool> again_{false};
    std::atomic<bool> stopped_{false};
    unsigned ticks_ = 0;

    mutable std::mutex mutex_;   // what follows
    std::unordered_map<std::string, known> known_;
    std::unordered_set<std::string> watched_;   // channels of the webhooks delivered here
    status_counts counts_;
};

}  // namespace kp::server
