#pragma once
// When to retry a webhook delivery that failed: exponential backoff with jitter. The delay
// before attempt n+1, after n failures in a row, is drawn in [d/2, d] where
// d = min(max, initial * 2^(n-1)): half of it fixed so that retries never bunch at zero, half
// random so that webhooks that failed together do not retry together.

#include <chrono>

namespace kp::webhooks {

class retry_policy {
public:
    // Throws std::invalid_argument unless 0 < initial <= max.
    retry_policy(std::chrono::milliseconds initial, std::chrono::milliseconds max);

    // `failures`: failures in a row so far (1 after the first; 0 counts as 1). `unit_random`:
    // uniform in [0, 1) (clamped into it). Never overflows, however large `failures` is.
    std::chrono::milliseconds delay(unsigned failures, double unit_random) const;

    // d = min(max, initial * 2^(failures-1)), the upper bound of delay().
    std::chrono::milliseconds ceiling(unsigned failures) const;

    std::chrono::milliseconds initial() const { return initial_; }
    std::chrono::milliseconds max() const { return max_; }

private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
};

}  // namespace kp::webhooks
