#pragma once
// What a webhook sends next on one channel (PROTOCOL.md section 7), from where it stands and
// what the history holds: nothing, the next events (at most max_batch, consecutive offsets),
// or a `kinto.resync` when the history no longer covers it (events trimmed past its
// position, or a new epoch). No I/O: the caller reads the history's span before, and the
// events after.

#include <cstdint>
#include <string>

namespace kp::webhooks {

// A webhook's acknowledged position on one channel: every event up to `offset` of `epoch` was
// acknowledged; `timestamp` is the Kinto timestamp of the last of them (0 when none), what a
// resync tells the consumer to fetch Kinto from.
struct cursor_position {
    std::string epoch;
    std::uint64_t offset = 0;
    std::int64_t timestamp = 0;
    friend bool operator==(cursor_position const&, cursor_position const&) = default;
};

// The channel's history as the store sees it now.
struct history_view {
    std::string epoch;
    std::uint64_t first = 0;   // oldest offset kept (0: none kept)
    std::uint64_t last = 0;    // last offset ever given
};

struct delivery_step {
    enum class kind { idle, events, resync };
    kind what = kind::idle;
    // events: offsets first..last to read and send. resync: unused.
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    // Where the webhook stands once this step is acknowledged (for events, the caller sets
    // the timestamp of the last event it read).
    cursor_position after;
};

class delivery_plan {
public:
    static delivery_step next(cursor_position const& at, history_view const& view, unsigned max_batch);
};

}  // namespace kp::webhooks
