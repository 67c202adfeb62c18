#pragma once
// Which of a metric's stripes the calling thread writes to. Each thread gets one stripe, handed
// out round-robin on its first use, so that the shard threads (one per core) write to
// different cache lines and an increment never contends with another thread's.

#include <atomic>
#include <cstddef>

namespace kp::metrics {

inline constexpr std::size_t stripe_count = 16;

inline std::atomic<std::size_t> next_stripe{0};
// Constant-initialized, so reading it needs no initialization guard.
inline constinit thread_local std::size_t this_thread_stripe = stripe_count;

inline std::size_t thread_stripe() noexcept {
    if (this_thread_stripe == stripe_count) [[unlikely]]
        this_thread_stripe = next_stripe.fetch_add(1, std::memory_order_relaxed) % stripe_count;
    return this_thread_stripe;
}

}  // namespace kp::metrics
