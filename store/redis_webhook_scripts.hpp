#pragma once
// The Lua scripts of the Redis webhook store and of the cluster's subscriber counts, each one
// atomic in Redis. Keys under the store's prefix P ("kp:"): P webhooks (hash id -> definition),
// P webhook:<id>:positions (hash channel -> "epoch offset timestamp"), P webhook:<id>:lease
// (the holding node's id, with a TTL), P subscriber-nodes (zset node -> expiry, Redis's clock,
// ms), P subscribers:<node> (hash channel -> count, with the same TTL).

#include <string_view>

namespace kp::store::redis_webhook_scripts {

// KEYS: webhooks, positions. ARGV: id, definition, then channel, position pairs. 0 when the id
// exists (nothing written), else 1.
extern std::string_view const create;

// KEYS: webhooks. ARGV: id, definition. 0 when the id is missing.
extern std::string_view const update_definition;

// KEYS: webhooks, positions, lease. ARGV: id, "1" to check the lease or "0", holder, then
// channel, position pairs. 0 (nothing written) when the webhook is gone or, when checked, the
// lease is not the holder's.
extern std::string_view const save_positions;

// KEYS: webhooks, positions, lease. ARGV: id. 1 when the webhook existed.
extern std::string_view const remove;

// KEYS: lease. ARGV: node, ttl_ms. 1 when node holds the lease afterwards (taken when free,
// renewed when its own), 0 when another node holds it.
extern std::string_view const hold_lease;

// KEYS: lease. ARGV: node. Deleted only when node holds it.
extern std::string_view const release_lease;

// KEYS: subscriber-nodes, subscribers:<node>. ARGV: node, ttl_ms, then channel, count pairs.
// Replaces the node's report; forgets expired nodes.
extern std::string_view const report_subscribers;

// KEYS: subscriber-nodes. ARGV: prefix of the nodes' hashes (P subscribers:), then channels.
// The sums over the nodes whose report has not expired, one per channel.
extern std::string_view const total_subscribers;

}  // namespace kp::store::redis_webhook_scripts
