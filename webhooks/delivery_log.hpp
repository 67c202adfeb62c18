#pragma once
// The last attempts of one webhook, newest first, bounded (50 by default): what
// GET /v1/webhooks/{id}/deliveries shows. Not thread-safe: its owner guards it.

#include "webhooks/delivery_attempt.hpp"

#include <cstddef>
#include <deque>
#include <vector>

namespace kp::webhooks {

class delivery_log {
public:
    static constexpr std::size_t default_capacity = 50;

    // A capacity of 0 is taken as 1.
    explicit delivery_log(std::size_t capacity = default_capacity);

    // Records an attempt; the oldest one goes when the log is full.
    void add(delivery_attempt attempt);

    // At most `limit` attempts, the newest first.
    std::vector<delivery_attempt> newest_first(std::size_t limit) const;

    std::size_t size() const { return attempts_.size(); }
    std::size_t capacity() const { return capacity_; }

private:
    std::size_t capacity_;
    std::deque<delivery_attempt> attempts_;  // front: newest
};

}  // namespace kp::webhooks
