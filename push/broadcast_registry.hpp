#pragma once
// The configured broadcasts and their versions. A version is the quoted Kinto timestamp of
// the latest event of the broadcast's channel: read from the history at start (so it
// survives restarts), then followed as transactions are published. A new version is handed
// to every shard as one broadcast_change; with a debounce, a broadcast changes at most once
// per interval and the last version of the interval follows when it ends.
//
// Thread-safe: the hub's publish observer (the publishing thread: the ingest thread, or the
// publisher's shard with the memory store), the debounce timer and the push
// sessions (every shard) call it. Sinks are called under the lock, so changes reach every
// shard in the order they happened.

#include "channels/message.hpp"
#include "push/broadcast_change.hpp"
#include "push/broadcast_spec.hpp"
#include "store/history_store.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kp::push {

class broadcast_registry {
public:
    using clock = std::chrono::steady_clock;
    using sink = std::function<void(broadcast_change_ptr const&)>;
    static constexpr std::size_t max_broadcasts = 64;   // one bit each in a 64-bit mask

    // At most max_broadcasts specs with distinct ids (config_loader checks both).
    broadcast_registry(std::vector<broadcast_spec> specs, clock::duration debounce);

    // Registers a shard before serving starts. Each sink must post to its shard's thread.
    void add_sink(sink s);

    // Takes each broadcast's version from the latest event of its channel in `history`.
    void load(store::history_store& history);

    // One published transaction, in publish order. Returns when flush() is next due (a
    // version held back by the debounce), if ever.
    std::optional<clock::time_point> observe(std::vector<channels::message_ptr> const& batch, clock::time_point now);
    // Publishes the versions whose debounce interval has ended; returns when it is next due.
    std::optional<clock::time_point> flush(clock::time_point now);

    std::vector<broadcast_spec> const& specs() const { return specs_; }
    std::optional<std::size_t> index_of(std::string_view id) const;
    // The published version of each broadcast, by index ("" while its channel has no event).
    std::vector<std::string> versions() const;

private:
    struct state {
        std::string published;   // what clients are told
        std::string latest;      // the channel's latest event (ahead of `published` while debounced)
        std::optional<clock::time_point> published_at;
        bool pending = false;
    };

    // Under the lock.
    void publish(std::vector<std::size_t> const& indexes, clock::time_point now);
    std::optional<clock::time_point> next_due() const;

    std::vector<broadcast_spec> const specs_;
    clock::duration const debounce_;
    std::unordered_map<std::string, std::vector<std::size_t>> by_channel_;
    std::unordered_map<std::string, std::size_t> by_id_;
    std::vector<sink> sinks_;

    mutable std::mutex mutex_;
    std::vector<state> states_;
};

}  // namespace kp::push
