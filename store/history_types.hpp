#pragma once
// Plain records the history stores exchange with their users. The store knows nothing of
// channels' meaning, sessions or frames: a body is opaque JSON text kept as given.

#include <cstdint>
#include <string>
#include <vector>

namespace kp::store {

// One event of one channel as the history keeps it.
struct event_record {
    std::string channel;
    std::uint64_t offset = 0;
    std::int64_t timestamp = 0;      // Kinto timestamp of this channel's part of the event
    std::int64_t stored_at_ms = 0;   // wall clock at append, for retention by age
    std::string body;                // JSON object text: {"payload":…,"impacted_objects":…}
};

// One channel's part of an event to append.
struct append_entry {
    std::string channel;
    std::int64_t timestamp = 0;
    std::string body;
};

// One Kinto event: its identity for idempotent publishing and its parts, one per channel.
struct append_event {
    std::string dedupe_key;
    std::vector<append_entry> entries;
};

struct channel_offset {
    std::string channel;
    std::uint64_t offset = 0;
    friend bool operator==(channel_offset const&, channel_offset const&) = default;
};

// What one append gave each event of the transaction, in order. A duplicate event gets the
// offsets it received the first time and `duplicate` set.
struct appended_event {
    std::vector<channel_offset> offsets;
    bool duplicate = false;
};

// The extent of one channel's history.
struct channel_span {
    std::uint64_t first = 0;   // oldest offset still held (0 when the history is empty)
    std::uint64_t last = 0;    // last offset ever given (0 when nothing was ever appended)
    bool trimmed = false;      // true once any event left the history (by count or age)
};

// Where a `since: {timestamp}` resume starts.
struct timestamp_position {
    std::uint64_t after = 0;   // replay starts at after + 1
    bool covered = false;      // the history holds an event with timestamp <= T, or was never trimmed
};

// Retention limits, applied per channel.
struct retention {
    std::size_t max_events = 1000;
    std::int64_t max_age_ms = 86'400'000;
};

}  // namespace kp::store
