#pragma once
// A monotonic count (Prometheus counter). inc() is one relaxed atomic add on the calling
// thread's own cache line: cheap enough for every delivery. value() sums the stripes (scrape).

#include "metrics/thread_stripe.hpp"

#include <array>
#include <atomic>
#include <cstdint>

namespace kp::metrics {

class counter {
public:
    void inc(std::uint64_t n = 1) noexcept { cells_[thread_stripe()].value.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept;

private:
    struct alignas(64) cell {
        std::atomic<std::uint64_t> value{0};
    };
    std::array<cell, stripe_count> cells_;
};

}  // namespace kp::metrics
