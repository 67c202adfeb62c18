#include "metrics/counter.hpp"

namespace kp::metrics {

std::uint64_t counter::value() const noexcept {
    std::uint64_t total = 0;
    for (auto const& c : cells_) total += c.value.load(std::memory_order_relaxed);
    return total;
}

}  // namespace kp::metrics
