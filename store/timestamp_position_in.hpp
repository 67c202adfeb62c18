#pragma once
// Where a `since: {timestamp}` resume starts, computed from a channel's whole held history:
// the one definition the stores share (history_store::position_after states the contract).

#include "store/history_types.hpp"

#include <cstdint>
#include <optional>

namespace kp::store {

// `held` is every event the channel still holds, oldest first; `last` its last offset ever
// given; `trimmed` whether any event ever left it. Replay starts at the first held event newer
// than `timestamp` (or after `last` when none is); the position is covered when an event at
// or before `timestamp` is still held, or nothing was ever trimmed.
template <class Records>
timestamp_position timestamp_position_in(Records const& held, std::uint64_t last, bool trimmed,
                                         std::int64_t timestamp) {
    timestamp_position position{last, !trimmed};
    bool found = false;
    for (event_record const& record : held) {
        if (record.timestamp <= timestamp) position.covered = true;
        if (!found && record.timestamp > timestamp) {
            position.after = record.offset - 1;
            found = true;
        }
    }
    return position;
}

// The same for a store that keeps a memory tail of each channel (a state with `last`,
// `trimmed_through` and `cache`, contiguous and ending at `last`): answered only when the tail
// holds the channel's whole history, else nullopt (the store must look further).
template <class TailState>
std::optional<timestamp_position> timestamp_position_in_tail(TailState const& state, std::int64_t timestamp) {
    bool const whole = state.last == state.trimmed_through ||
                       (!state.cache.empty() && state.cache.front().offset == state.trimmed_through + 1);
    if (!whole) return std::nullopt;
    return timestamp_position_in(state.cache, state.last, state.trimmed_through > 0, timestamp);
}

}  // namespace kp::store
