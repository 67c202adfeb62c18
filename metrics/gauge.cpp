#include "metrics/gauge.hpp"

namespace kp::metrics {

std::int64_t gauge::value() const noexcept {
    std::int64_t total = 0;
    for (auto const& c : cells_) total += c.value.load(std::memory_order_relaxed);
    return total;
}

}  // namespace kp::metrics
