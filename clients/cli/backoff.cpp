#include "clients/cli/backoff.hpp"

#include <algorithm>

namespace kp::cli {

backoff::backoff(duration base, duration cap) : base_(base), cap_(cap), random_(std::random_device{}()) {}

backoff::duration backoff::ceiling() const {
    auto ceiling = base_;
    for (std::uint32_t i = 0; i < failures_ && ceiling < cap_; ++i) ceiling *= 2;
    return std::min(ceiling, cap_);
}

backoff::duration backoff::next() {
    auto high = ceiling();
    if (failures_ < 64) ++failures_;
    std::uniform_int_distribution<std::int64_t> pick(0, high.count());
    return duration(pick(random_));
}

}  // namespace kp::cli
