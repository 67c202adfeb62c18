#pragma once
// Webhooks shared by the nodes of one Redis store, on that store's link
// (redis_store::script / pipeline). Each multi-key change is one Lua script
// (redis_webhook_scripts), so a node that lost its lease, or a webhook deleted meanwhile, never
// has a position written; a lease is a key holding the node's id with a TTL.

#include "store/redis_reply.hpp"
#include "store/webhook_store.hpp"

namespace kp::store {

class redis_store;

class redis_webhook_store final : public webhook_store {
public:
    // `redis` outlives this store.
    explicit redis_webhook_store(redis_store& redis);

    std::vector<stored_webhook> load_all() override;
    std::optional<stored_webhook> load(std::string const& id) override;
    bool create(stored_webhook const& webhook) override;
    bool update_definition(std::string const& id, std::string const& definition) override;
    bool save_positions(std::string const& id, std::vector<webhook_position> const& positions,
                        std::optional<std::string> const& holder) override;
    void forget_positions(std::string const& id, std::vector<std::string> const& channels) override;
    bool remove(std::string const& id) override;
    bool hold_lease(std::string const& id, std::string const& node, std::chrono::milliseconds ttl) override;
    void release_lease(std::string const& id, std::string const& node) override;
    bool shared() const override { return true; }

    // "epoch offset timestamp", the value of a position in Redis, and back (nullopt when
    // malformed).
    static std::string encode_position(webhook_position const& position);
    static std::optional<webhook_position> decode_position(std::string channel, std::string const& text);

private:
    std::string positions_key(std::string const& id) const;
    std::string lease_key(std::string const& id) const;
    // A script whose answer is an integer: 1 true, 0 false; store_error otherwise.
    bool yes_or_no(std::string_view script, std::vector<std::string> const& keys, std::vector<std::string> const& args);
    std::vector<webhook_position> positions_from(std::string const& id, redis_reply const& reply) const;

    redis_store& redis_;
    std::string webhooks_key_;
};

}  // namespace kp::store
