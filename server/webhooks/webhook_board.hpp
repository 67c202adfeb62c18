#pragma once
// What this node knows of the webhooks it delivers, for GET /v1/webhooks and the dashboard:
// per channel the acknowledged position, failures and the next attempt, and the last attempts
// (webhooks::delivery_log). Written by the runners (each on its shard), read by the endpoint
// (on the blocking pool): one mutex.

#include "webhooks/delivery_log.hpp"
#include "webhooks/delivery_plan.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace kp::server {

struct channel_progress {
    webhooks::cursor_position delivered;
    unsigned failures = 0;                // consecutive failed attempts (0: not retrying)
    std::int64_t next_attempt_ms = 0;     // while retrying: when (Unix ms)
    std::uint64_t pending_events = 0;     // known to wait (last offset seen - delivered)
    std::int64_t oldest_pending_ms = 0;   // Kinto timestamp of the oldest event not acknowledged (0: none)
};

struct webhook_progress {
    std::map<std::string, channel_progress> channels;
    bool retrying() const;
};

class webhook_board {
public:
    void set_channel(std::string const& id, std::string const& channel, channel_progress progress);
    void drop_channel(std::string const& id, std::string const& channel);
    std::optional<webhook_progress> progress(std::string const& id) const;
    void add_attempt(std::string const& id, webhooks::delivery_attempt attempt);
    std::vector<webhooks::delivery_attempt> attempts(std::string const& id, std::size_t limit) const;
    // Per webhook delivered here: events waiting, and seconds since the oldest of them was
    // written in Kinto (for /metrics).
    struct lag {
        std::string id;
        std::uint64_t events = 0;
        double seconds = 0;
    };
    std::vector<lag> lags(std::int64_t now_ms) const;
    // The webhook is no longer delivered here: its progress goes; its attempts stay while
    // `keep_attempts` (a disabled webhook still shows why).
    void forget(std::string const& id, bool keep_attempts);

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, webhook_progress> progress_;
    std::unordered_map<std::string, webhooks::delivery_log> logs_;
};

}  // namespace kp::server
