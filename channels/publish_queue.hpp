#pragma once
// The ingest thread: POST bodies wait here, and are published in groups, so that one store
// commit (one fsync with the durable store) serves every request that arrived meanwhile.
// Bounded: when it is full, submit() refuses at once and the publisher gets a 503.

#include "channels/channel_hub.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace kp::channels {

class publish_queue {
public:
    using completion = std::function<void(publish_result)>;

    publish_queue(channel_hub& hub, std::size_t capacity = 1024, std::size_t max_group = 256);
    ~publish_queue();
    publish_queue(publish_queue const&) = delete;
    publish_queue& operator=(publish_queue const&) = delete;

    // Thread-safe. `done` runs later on the ingest thread; false (and `done` not called) when
    // the queue is full or stopped.
    bool submit(nlohmann::ordered_json body, completion done);
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
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<request> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace kp::channels
