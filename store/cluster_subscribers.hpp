#pragma once
// Subscriber counts across the nodes sharing a Redis store (PROTOCOL.md section 8): each node
// reports its own counts periodically; a dead node's report expires with its TTL. Thread-safe;
// every call blocks on the network (never from an event loop); throws store_error.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kp::store {

class cluster_subscribers {
public:
    virtual ~cluster_subscribers() = default;
    // This node's subscriber count per channel (replaces its previous report), kept for `ttl`.
    virtual void report(std::string const& node, std::vector<std::pair<std::string, std::uint64_t>> const& counts,
                        std::chrono::milliseconds ttl) = 0;
    // The sum over live nodes for each channel asked, in the order asked (0 when nobody
    // reports it).
    virtual std::vector<std::uint64_t> totals(std::vector<std::string> const& channels) = 0;
};

}  // namespace kp::store
