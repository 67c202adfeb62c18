#include "webhooks/retry_policy.hpp"

#include <stdexcept>

namespace kp::webhooks {

retry_policy::retry_policy(std::chrono::milliseconds initial, std::chrono::milliseconds max)
    : initial_(initial), max_(max) {
    if (initial.count() <= 0) throw std::invalid_argument("retry_policy: the initial delay must be positive");
    if (max < initial) throw std::invalid_argument("retry_policy: the maximum delay is below the initial one");
}

std::chrono::milliseconds retry_policy::ceiling(unsigned failures) const {
    // Doubling stops at max, so it runs at most ~63 times and never overflows.
    auto d = initial_.count();
    auto const cap = max_.count();
    for (unsigned n = 1; n < failures && d < cap; ++n)
        d = d > cap / 2 ? cap : d * 2;
    return std::chrono::milliseconds(d < cap ? d : cap);
}

std::chrono::milliseconds retry_policy::delay(unsigned failures, double unit_random) const {
    if (!(unit_random >= 0.0)) unit_random = 0.0;  // also NaN
    if (unit_random > 1.0) unit_random = 1.0;
    auto const d = ceiling(failures).count();
    auto const half = d / 2;
    auto const spread = d - half;
    auto extra = static_cast<long long>(static_cast<double>(spread) * unit_random);
    if (extra > spread) extra = spread;
    return std::chrono::milliseconds(half + extra);
}

}  // namespace kp::webhooks
