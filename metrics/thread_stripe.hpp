#pragma once
// Which of a metric's stripes the calling thread writes to. Each thread gets one stripe, handed
// out round-robin on its first use, so that the shard threads (one per core) write to
// different cache lines and an increment never contends with another thread's.

#include <atomic>
#include <cstddef>

namespace kp::metrics {

inline constexpr std::size_t stripe_count = 16;

inline std::atomic<std::size_t> next_stripe{0};

inline std::size_t thread_stripe() noexcept {
    static thread_local std::size_t const stripe =
        next_stripe.fetch_add(1, std::memory_order_relaxed) % stripe_count;
    return stripe;
}

}  // namespace kp::metrics
