#pragma once
// The ordered, numbered history of every channel, behind one interface (memory, sqlite, redis).
// Implementations are thread-safe: appends come from publishers, reads from every shard.

#include "store/history_types.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kp::store {

class history_store {
public:
    virtual ~history_store() = default;

    // "memory", "sqlite" or "redis".
    virtual std::string kind() const = 0;
    // Names this history; changes only when the history is lost.
    virtual std::string epoch() const = 0;

    // Appends transactions atomically, together (a group commit): every new event gets the
    // next offsets of its channels, an event whose dedupe key is known gets its first offsets
    // back. On failure nothing of the group is stored and store_error is thrown.
    virtual std::vector<std::vector<appended_event>> append_group(
        std::span<std::vector<append_event> const> transactions) = 0;

    // One transaction.
    std::vector<appended_event> append(std::vector<append_event> const& transaction) {
        return append_group(std::span(&transaction, 1)).front();
    }

    // True when read(channel, after, …) is served from memory, without touching the disk.
    virtual bool read_in_memory(std::string const& channel, std::uint64_t after) = 0;

    // Events of `channel` with offset > after, oldest first, at most `limit`.
    virtual std::vector<event_record> read(std::string const& channel, std::uint64_t after,
                                           std::size_t limit) = 0;

    virtual channel_span span(std::string const& channel) = 0;

    // Where a replay for a client synced up to Kinto timestamp `timestamp` starts. May read
    // the disk or the network: shard threads call position_in_memory first.
    virtual timestamp_position position_after(std::string const& channel, std::int64_t timestamp) = 0;
    // The same answer when it comes from memory alone; nullopt when it needs the disk or the
    // network (the caller then asks position_after off its shard thread).
    virtual std::optional<timestamp_position> position_in_memory(std::string const& /*channel*/,
                                                                 std::int64_t /*timestamp*/) {
        return std::nullopt;
    }

    // Channels with history whose name starts with `prefix`.
    virtual std::vector<std::string> channels_with_prefix(std::string const& prefix) = 0;

    // Drops what retention by age no longer keeps (retention by count is applied on append).
    // Called off the hot path, from a timer.
    virtual void trim(std::int64_t now_ms) = 0;

    // True when the store answers.
    virtual bool healthy() = 0;

    // True when an append never waits on a disk or a network: publishing may then run on the
    // publisher's own thread instead of crossing to the ingest thread (channels::publish_queue).
    virtual bool appends_in_memory() const { return false; }

    // A store shared by several servers (redis) assigns offsets in a place every server sees,
    // and announces every event itself, this server's and the others': the caller of
    // append_group must not fan out. Announcements come from one thread, one transaction per
    // call, in offset order per channel, each after the store's reads include it.
    // `history_lost` runs when the shared history was lost while serving (a new epoch).
    using event_sink = std::function<void(std::vector<event_record> const& transaction)>;
    virtual bool announces_events() const { return false; }
    virtual void set_announcer(event_sink /*announce*/, std::function<void()> /*history_lost*/) {}
};

}  // namespace kp::store
