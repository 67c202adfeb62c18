#include "webhooks/delivery_log.hpp"

#include <algorithm>
#include <utility>

namespace kp::webhooks {

delivery_log::delivery_log(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void delivery_log::add(delivery_attempt attempt) {
    attempts_.push_front(std::move(attempt));
    while (attempts_.size() > capacity_)
        attempts_.pop_back();
}

std::vector<delivery_attempt> delivery_log::newest_first(std::size_t limit) const {
    auto const n = std::min(limit, attempts_.size());
    return std::vector<delivery_attempt>(attempts_.begin(), attempts_.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace kp::webhooks
