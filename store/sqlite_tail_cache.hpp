#pragma once
// What the sqlite store knows of each channel appended to since start: its last offset, how
// far it was trimmed, and the memory tail of its last events, so that recent resumes never
// read the disk. Thread-safe (its own lock, taken after the writer's and never with the reader's).

#include "store/history_types.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace kp::store {

// A channel's row in the history file: its last offset and how far it was trimmed.
struct stored_position {
    std::uint64_t last = 0;
    std::uint64_t trimmed_through = 0;   // every offset <= this has left the history
};

class sqlite_tail_cache {
public:
    // Keeps at most `cache_size` events per channel, none older than `max_age_ms`.
    sqlite_tail_cache(std::size_t cache_size, std::int64_t max_age_ms);

    // nullopt for a channel not appended to since start (its position is on disk only).
    std::optional<stored_position> position(std::string const& channel) const;
    // Whether read(after) would be answered from memory; nullopt for an unknown channel.
    std::optional<bool> covers(std::string const& channel, std::uint64_t after) const;
    // Up to `limit` events after `after` when memory holds them all (empty when `after` is at
    // or beyond the head); nullopt when the disk must be read.
    std::optional<std::vector<event_record>> read(std::string const& channel, std::uint64_t after,
                                                  std::size_t limit) const;
    // Answered only when the tail holds the channel's whole history (timestamp_position_in_tail).
    std::optional<timestamp_position> position_after(std::string const& channel, std::int64_t timestamp) const;

    // After a commit: the new positions of the channels the group touched and its new
    // events, oldest first; then the tails are trimmed at `now_ms`.
    void committed(std::unordered_map<std::string, stored_position> const& positions,
                   std::vector<event_record> records, std::int64_t now_ms);
    // After a trim by age: channel -> the offset it was trimmed through; every tail is trimmed
    // at `now_ms`.
    void trimmed(std::unordered_map<std::string, std::uint64_t> const& through, std::int64_t now_ms);

private:
    // `cache` is always a contiguous run of offsets ending at `last` (possibly empty).
    struct channel_state {
        std::uint64_t last = 0;
        std::uint64_t trimmed_through = 0;
        std::deque<event_record> cache;
    };

    void trim(channel_state& state, std::int64_t now_ms) const;

    std::size_t const cache_size_;
    std::int64_t const max_age_ms_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, channel_state> states_;
};

}  // namespace kp::store
