#pragma once
// Where publishing and subscribing meet: maps Kinto events to channels, appends them to the
// history, and hands each shard one batch of shared messages per transaction; plans where a
// subscription starts and what it replays.
//
// Why replay has no hole and no duplicate: the hub appends to the store *before* it posts the
// batch to the shards, and posts batches in offset order (one lock covers both). A session
// reads the store on its own shard thread; whatever it read is <= the head it saw, and every
// later offset reaches the shard after that read, as a live message. Live messages at or
// below what the session already sent are dropped by offset.

#include "channels/kinto_mapping.hpp"
#include "channels/message.hpp"
#include "store/history_store.hpp"

#include <nlohmann/json_fwd.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

namespace kp::channels {

struct publish_result {
    enum class status { ok, bad_request, unavailable };
    status outcome = status::ok;
    std::string error;
    std::vector<store::channel_offset> published;
};

// A `since` of a subscribe frame: by position, by Kinto timestamp, or absent.
struct since_position {
    std::string epoch;
    std::uint64_t offset = 0;
};

struct resume_plan {
    std::string epoch;
    std::uint64_t offset = 0;        // the channel's last offset when the subscription took effect
    bool recovered = true;
    std::uint64_t replay_after = 0;  // replay events with offset > replay_after, up to the head
    bool replay = false;
};

class channel_hub {
public:
    using shard_sink = std::function<void(message_batch)>;

    channel_hub(store::history_store& store, std::size_t max_replay);

    // Registers a shard before serving starts; returns its index. Each sink must post to its
    // shard's thread and, once the batch is handed to the sessions, call delivered(index).
    std::size_t add_shard(shard_sink sink);
    void delivered(std::size_t shard);

    // At most this many batches may wait for a shard before publishing holds back.
    static constexpr std::size_t max_pending_batches = 64;
    // True while a shard has more than max_pending_batches batches not yet delivered: a server
    // that cannot deliver as fast as it is published to then slows its publishers down
    // (publish_queue waits) instead of queueing without bound.
    bool behind() const;
    // Blocks the calling thread while behind(), until every shard is back within the limit or
    // `stop` is requested (the ingest thread, before it publishes). delivered() wakes it when
    // a shard gets back within the limit: no polling.
    void wait_until_caught_up(std::stop_token const& stop);
    // Threads blocked in wait_until_caught_up now. Waitable (std::atomic::wait), so that a test
    // can tell when publishing is held back.
    std::atomic<unsigned> const& held_back() const { return held_back_; }

    // Sees the messages of every published transaction, in offset order, right after the
    // shards got them: on the publishing thread, under the publish lock (keep it short); with
    // a shared store, also those of other nodes, on the store's thread.
    // Set before serving starts (the Autopush broadcasts follow channels through it).
    using publish_observer = std::function<void(std::vector<message_ptr> const&)>;
    void set_publish_observer(publish_observer observer);

    // Validates, maps, stores and fans out one POST body. Thread-safe.
    publish_result publish(nlohmann::ordered_json const& body);

    // The same for several POST bodies at once: the valid ones are stored in one group commit
    // (all of them, or none when the store fails), then fanned out in order.
    std::vector<publish_result> publish_all(std::vector<nlohmann::ordered_json const*> const& bodies);

    // Events whose offsets the store assigned and announces itself (a store shared by several
    // servers, history_store::announces_events): one transaction, already readable from the
    // store, handed to every shard as one batch. Calls come from one thread, in offset order.
    void deliver_assigned(std::vector<store::event_record> const& transaction);

    // Where a subscription starts. Call on the subscriber's shard thread, after the session
    // registered in that shard's subscriber table (see the class comment).
    resume_plan plan_live(std::string const& channel);
    resume_plan plan_from(std::string const& channel, since_position const& since);
    // The same from a position the store gave for a `since: {timestamp}`
    // (history_store::position_in_memory, or position_after asked off the shard thread):
    // events published since then are replayed too.
    resume_plan plan_from_position(std::string const& channel, store::timestamp_position const& position);
    // GET /v1/history?since=…[&epoch=…]: the same rule as plan_from (no epoch given: the
    // current one), without the replay limit, since the endpoint answers in pages. Any thread.
    resume_plan plan_history(std::string const& channel, std::uint64_t since, std::optional<std::string> const& epoch);

    // Stored events after `after`, as messages, at most `limit`.
    std::vector<message_ptr> read(std::string const& channel, std::uint64_t after, std::size_t limit);

    // Channels with subscribers on this node (the bucket-delete cascade uses them).
    void subscribed(std::string const& channel);
    void unsubscribed(std::string const& channel);

    // Channels with subscribers on this node, and the subscriptions to them (for /metrics).
    struct subscription_count {
        std::size_t channels = 0;
        std::size_t subscriptions = 0;
    };
    subscription_count subscription_counts();
    // Sessions (WebSocket and SSE, every shard) subscribed to exactly `channel` on this node,
    // and the channels with subscribers whose name starts with `prefix`. Any thread.
    std::size_t subscriber_count(std::string const& channel);
    std::vector<std::string> subscribed_with_prefix(std::string const& prefix);

    store::history_store& history() { return store_; }

private:
    void post_to_shards(message_batch batch);
    std::vector<std::string> known_collections(std::string const& bucket_id);
    // The resume rule, the one place it is written: a client that holds `channel` up to
    // `after`, in the store's epoch (`same_epoch`), recovers when it is not ahead of the head
    // and the history still holds every event after it, at most `max_events` of them; it then
    // replays after..head.
    resume_plan plan_after(std::string const& channel, std::uint64_t after, bool same_epoch, std::uint64_t max_events);

    store::history_store& store_;
    std::size_t max_replay_;
    kinto_mapping mapping_;
    std::vector<shard_sink> shards_;
    std::vector<std::unique_ptr<std::atomic<std::size_t>>> pending_;   // per shard: batches not yet delivered
    // Wake the threads in wait_until_caught_up; the mutex orders a shard's return within the
    // limit before a waiter's check of behind().
    std::mutex caught_up_mutex_;
    std::condition_variable_any caught_up_;
    std::atomic<unsigned> held_back_{0};   // threads in wait_until_caught_up
    publish_observer observer_;

    std::mutex publish_mutex_;   // orders append + fan-out

    std::mutex subscribed_mutex_;
    std::unordered_map<std::string, std::size_t> subscribed_;
};

}  // namespace kp::channels
