#pragma once
// Subscriber counts across the nodes of one Redis store, on that store's link: each node's
// report is a hash with a TTL plus its expiry (Redis's clock) in a zset of nodes; totals sum the
// reports that have not expired, in one Lua script (redis_webhook_scripts).

#include "store/cluster_subscribers.hpp"

namespace kp::store {

class redis_store;

class redis_cluster_subscribers final : public cluster_subscribers {
public:
    // `redis` outlives this object.
    explicit redis_cluster_subscribers(redis_store& redis);

    void report(std::string const& node, std::vector<std::pair<std::string, std::uint64_t>> const& counts,
                std::chrono::milliseconds ttl) override;
    std::vector<std::uint64_t> totals(std::vector<std::string> const& channels) override;

private:
    redis_store& redis_;
    std::string nodes_key_;
    std::string node_prefix_;
};

}  // namespace kp::store
