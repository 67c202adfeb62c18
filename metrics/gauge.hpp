#pragma once
// A value that goes up and down (Prometheus gauge), changed by additions from any thread: the
// stripes hold signed sums, so an add on one thread and the matching sub on another balance.

#include "metrics/thread_stripe.hpp"

#include <array>
#include <atomic>
#include <cstdint>

namespace kp::metrics {

class gauge {
public:
    void add(std::int64_t n) noexcept { cells_[thread_stripe()].value.fetch_add(n, std::memory_order_relaxed); }
    void sub(std::int64_t n) noexcept { add(-n); }
    std::int64_t value() const noexcept;

private:
    struct alignas(64) cell {
        std::atomic<std::int64_t> value{0};
    };
    std::array<cell, stripe_count> cells_;
};

}  // namespace kp::metrics
