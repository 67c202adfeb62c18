#pragma once
// The Lua scripts that make the Redis history atomic. Every key lives under a prefix
// ("kp:" by default): kp:epoch, kp:offsets (hash channel -> last offset), kp:trimmed (hash
// channel -> every offset up to this one left the history), kp:s:CHANNEL (the stream, entry
// IDs "OFFSET-0"), kp:dedupe:KEY (an event's offsets, with the history's TTL).

#include <string_view>

namespace kp::store::redis_scripts {

// ARGV: prefix, epoch, maxlen, ttl_s, topic, then the group: N transactions, each
// "E events, each: dedupe key ('' for none), P parts, each: channel, timestamp, body".
// Refuses with "EPOCH …" when the stored epoch is not the caller's (a wiped Redis). For each
// transaction: one result per event {duplicate 0/1, "OFFSET CHANNEL\n"…}; one PUBLISH on
// `topic` per transaction with new parts (redis_wire_format).
extern std::string_view const publish;

// ARGV: prefix, channel, max_age_ms. Drops the channel's entries older than max_age_ms (by
// Redis's clock), records it in kp:trimmed, returns the channel's trimmed-through offset.
extern std::string_view const trim_by_age;

// ARGV: prefix, channel, timestamp, head. Among offsets <= head: {after, covered}, as
// history_store::position_after defines them.
extern std::string_view const position_after;

}  // namespace kp::store::redis_scripts
