#pragma once
// This node's view of the channels of a Redis history: each channel's head (`last`), what left
// it (`trimmed_through`) and a memory tail of recent events, the epoch that names the history,
// and the order in which what Redis announced may be handed on. Plain state, no I/O: its owner
// feeds it what the link received (transactions, stream reads, heads, the epoch) and does what
// it answers (read a range from the stream, announce records). Not thread-safe: the owner
// guards it.
//
// A transaction is handed on only when every earlier offset of its channels was: a gap (a
// Pub/Sub message lost while the link was down, or heads read at a reconnect that are ahead of
// this node) is read from the stream first. The head moves as records are handed on, before
// they are announced, so a session planning from it never misses a later offset.

#include "store/history_types.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace kp::store {

class redis_channel_view {
public:
    // One channel as this node knows it.
    struct channel_state {
        std::uint64_t last = 0;
        std::uint64_t trimmed_through = 0;
        std::deque<event_record> cache;   // contiguous, ends at `last` (possibly empty)
    };

    // Stream entries to read: offsets after + 1 through `through` of `channel` (a reader may
    // return the first ones only; filled() asks for the rest).
    struct fetch {
        std::string channel;
        std::uint64_t after = 0;
        std::uint64_t through = 0;
        bool gap = false;   // found in an announced transaction (else owed since a reconnect)
    };

    // What the owner does next.
    struct step {
        enum class kind {
            wait,      // nothing to do until the next input
            read,      // read `range` from the stream, then call filled(); nothing moves until then
            announce,  // announce `records` (now in the view; empty when all were known already)
        };
        kind what = kind::wait;
        fetch range;
        std::vector<event_record> records;
    };

    // What sync() found.
    struct sync_result {
        bool went_back = false;      // Redis holds a lower head than this node saw: nothing changed
        bool history_lost = false;   // the epoch had changed: subscribers must resync
    };

    using heads = std::unordered_map<std::string, std::uint64_t>;   // channel -> offset

    redis_channel_view(retention limits, std::size_t cache_size);

    // The epoch read from Redis after connecting. True when it differs from the one known (Redis
    // lost its data): every channel is forgotten and the next sync reports the loss.
    bool set_epoch(std::string const& epoch);
    std::string const& epoch() const { return epoch_; }

    // The heads read from Redis (kp:offsets, kp:trimmed) once subscribed. At the first sync or
    // after a lost history the heads are taken as they are (nobody is owed a replay); otherwise
    // what this node missed is queued to be read from the streams.
    sync_result sync(heads const& lasts, heads const& trims);

    // The link was lost: what arrived and what was owed are dropped (the next sync finds them
    // again from the heads), a read in flight is forgotten.
    void reset();

    // A transaction received from Pub/Sub, in the order received.
    void arrived(std::vector<event_record> transaction);

    // The next thing to do: a read owed, or the next transaction that can be announced.
    step next();

    // The answer to the read `range` that next() asked for: the stream's entries, oldest first.
    // Entries missing at the front were trimmed before this node read them: the head skips
    // them. Returns the records to announce.
    std::vector<event_record> filled(fetch const& range, std::vector<event_record> entries);

    bool read_in_memory(std::string const& channel, std::uint64_t after) const;
    // read(channel, after, limit) from memory; nullopt when the stream must be read.
    std::optional<std::vector<event_record>> read_from_memory(std::string const& channel, std::uint64_t after,
                                                              std::size_t limit) const;
    channel_span span(std::string const& channel) const;
    std::optional<timestamp_position> position_in_memory(std::string const& channel, std::int64_t timestamp) const;
    std::vector<std::string> channels_with_prefix(std::string const& prefix) const;
    // True when every channel's head reached its offset.
    bool reached(heads const& offsets) const;

    // Channels holding events that an age trim may drop.
    std::vector<std::string> channels_to_trim() const;
    // Redis's answer to an age trim of `channel`: everything up to `through` left the stream.
    void trimmed(std::string const& channel, std::uint64_t through, std::int64_t now_ms);

private:
    // Adds records to their channels (dropping those known already) and returns the new ones.
    std::vector<event_record> accept(std::vector<event_record> records);
    void trim_cache(channel_state& state, std::int64_t now_ms) const;

    retention limits_;
    std::size_t cache_size_;
    std::string epoch_;
    std::map<std::string, channel_state> channels_;
    std::deque<std::vector<event_record>> arrived_;   // received, not yet announced
    std::deque<std::pair<std::string, std::uint64_t>> owed_;   // channel, up to offset: to read
    bool reading_ = false;
    bool synced_once_ = false;
    bool history_lost_pending_ = false;
};

}  // namespace kp::store
