#include "channels/publish_queue.hpp"

#include <vector>

namespace kp::channels {

publish_queue::publish_queue(channel_hub& hub, std::size_t capacity, std::size_t max_group, mode how)
    : hub_(hub), capacity_(capacity), max_group_(max_group), mode_(how), thread_([this] { run(); }) {}

publish_queue::~publish_queue() {
    stop();
}

bool publish_queue::submit(nlohmann::ordered_json body, completion done) {
    if (mode_ == mode::direct) {
        std::unique_lock lock(mutex_);
        if (stopping_) return false;
        // Nothing waiting and the shards keep up: publish here. Otherwise queue behind the others.
        if (queue_.empty() && !hub_.behind()) {
            lock.unlock();
            done(hub_.publish(body));
            return true;
        }
    }
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= capacity_) return false;
        queue_.push_back({std::move(body), std::move(done)});
    }
    wake_.notify_one();
    return true;
}

std::size_t publish_queue::size() {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

void publish_queue::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_.request_stop();
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void publish_queue::run() {
    std::vector<request> group;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;   // stopping, and everything was published
            while (!queue_.empty() && group.size() < max_group_) {
                group.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        // Hold back while a shard is behind (stopping publishes what is queued at once).
        hub_.wait_until_caught_up(stop_.get_token());
        std::vector<nlohmann::ordered_json const*> bodies;
        bodies.reserve(group.size());
        for (auto const& r : group) bodies.push_back(&r.body);
        auto results = hub_.publish_all(bodies);
        for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
        group.clear();
    }
}

}  // namespace kp::channels
