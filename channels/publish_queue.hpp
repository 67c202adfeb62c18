#pragma once
// The ingest thread: POST bodies wait here, and are published in groups, so that one store
// commit (one fsync with the durable store) serves every request that arrived meanwhile.
// Bounded: when it is full, submit() refuses at once and the publisher gets a 503.
// With a store that appends in memory there is nothing to group: `direct` mode publishes on
// the caller's thread, which saves the POST two thread hand-offs (to the ingest thread and
// back to the publisher's shard).
// When the shards fall behind (channel_hub::behind), publishing waits on the ingest thread
// until they catch up, in both modes: publishers are slowed down to the delivery rate, and
// beyond the queue's capacity they get 503, instead of the server queueing without bound.

#include "channels/channel_hub.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace kp::channels {

class publish_queue {
public:
    using completion = std::function<void(publish_result)>;
    enum class mode { grouped, direct };

    publish_queue(channel_hub& hub, std::size_t capacity = 1024, std::size_t max_group = 256,
                  mode how = mode::grouped);
    ~publish_queue();
    publish_queue(publish_queue const&) = delete;
    publish_queue& operator=(publish_queue const&) = delete;

    // Thread-safe. `done` runs later on the ingest thread (grouped, or direct while the shards
    // are behind), or before submit returns on the caller's thread (direct); false (and `done`
    // not called) when the queue is full or stopped.
    bool submit(nlohmann::ordered_json body, completion done);
    // Requests waiting (thread-safe; for /metrics).
    std::size_t size();
    // Publishes what is queued, then stops the thread.
    void stop();

private:
    struct request {
        nlohmann::ordered_json body;
        completion done;
    };

    void run();

    channel_hub& hub_;
    std::size_t capacity_;
    std::size_t max_group_;
    mode mode_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<request> queue_;
    bool stopping_ = false;
    std::stop_source stop_;   // ends a wait for the shards (channel_hub::wait_until_caught_up)
    std::thread thread_;
};

}  // namespace kp::channels
