#pragma once
// Where webhooks and their delivery positions live (PROTOCOL.md section 7): positions survive
// restarts, and with Redis one node at a time delivers a webhook (its lease). The store knows
// nothing of webhooks' meaning: a definition is opaque JSON text kept as given.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kp::store {

// Acknowledged up to `offset` of `channel` in history `epoch`; `timestamp` is the Kinto
// timestamp of that event (0 if none).
struct webhook_position {
    std::string channel;
    std::string epoch;
    std::uint64_t offset = 0;
    std::int64_t timestamp = 0;
    friend bool operator==(webhook_position const&, webhook_position const&) = default;
};

struct stored_webhook {
    std::string id;
    std::string definition;
    std::vector<webhook_position> positions;   // ordered by channel when loaded
    friend bool operator==(stored_webhook const&, stored_webhook const&) = default;
};

// Thread-safe; every call may block (disk, network): never call it from an event loop.
// Throws store_error when the store cannot answer.
class webhook_store {
public:
    virtual ~webhook_store() = default;

    virtual std::vector<stored_webhook> load_all() = 0;   // ordered by id
    virtual std::optional<stored_webhook> load(std::string const& id) = 0;
    // False when the id exists; the definition and the positions in one atomic write.
    virtual bool create(stored_webhook const& webhook) = 0;
    // False when missing.
    virtual bool update_definition(std::string const& id, std::string const& definition) = 0;
    // Durable when it returns (sqlite: committed with the history's durability; redis:
    // acknowledged by Redis). Replaces the positions of the channels given, others untouched.
    // False (nothing written) when the webhook no longer exists, or, with `holder` set, when
    // that node no longer holds the lease (a node that lost its lease must not move a position
    // another node now owns).
    virtual bool save_positions(std::string const& id, std::vector<webhook_position> const& positions,
                                std::optional<std::string> const& holder) = 0;
    // Several saves at once, as save_positions would do them one by one, answered in order.
    // SQLite writes them in one transaction (one fsync for the group: what lets webhook
    // deliveries go faster than the disk syncs); the others save them one by one.
    struct position_save {
        std::string id;
        std::vector<webhook_position> positions;
        std::optional<std::string> holder;
    };
    virtual std::vector<bool> save_positions_group(std::vector<position_save> const& saves) {
        std::vector<bool> out;
        out.reserve(saves.size());
        for (auto const& s : saves) out.push_back(save_positions(s.id, s.positions, s.holder));
        return out;
    }
    // The positions of channels removed by PATCH.
    virtual void forget_positions(std::string const& id, std::vector<std::string> const& channels) = 0;
    // The definition, the positions and the lease. False when missing.
    virtual bool remove(std::string const& id) = 0;

    // Leases: true when `node` holds the webhook's lease after the call (taken when free or
    // expired, renewed when its own). Single-node stores (memory, sqlite) always answer true.
    virtual bool hold_lease(std::string const& id, std::string const& node, std::chrono::milliseconds ttl) = 0;
    virtual void release_lease(std::string const& id, std::string const& node) = 0;
    // True when several nodes share the store (redis): leases then mean something.
    virtual bool shared() const { return false; }
};

}  // namespace kp::store
