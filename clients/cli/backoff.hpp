#pragma once
// Reconnection delays: exponential with full jitter (a random delay between 0 and
// min(cap, base * 2^failures)), so that many clients dropped at once do not come back at once.

#include <chrono>
#include <cstdint>
#include <random>

namespace kp::cli {

class backoff {
public:
    using duration = std::chrono::milliseconds;

    backoff(duration base = duration(250), duration cap = duration(30'000));

    // The delay before the next attempt; each call counts one more failure.
    duration next();
    // The largest delay next() may return now.
    duration ceiling() const;
    // After a successful connection: the next delay is short again.
    void reset() { failures_ = 0; }
    std::uint32_t failures() const { return failures_; }

private:
    duration base_;
    duration cap_;
    std::uint32_t failures_ = 0;
    std::mt19937_64 random_;
};

}  // namespace kp::cli
