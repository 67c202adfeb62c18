#include "metrics/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kp::metrics {

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (!std::isfinite(bounds_[i])) throw std::invalid_argument("histogram bounds must be finite");
        if (i && bounds_[i] <= bounds_[i - 1]) throw std::invalid_argument("histogram bounds must increase");
    }
    for (auto& s : stripes_) {
        s.buckets = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
        for (std::size_t i = 0; i <= bounds_.size(); ++i) s.buckets[i].store(0, std::memory_order_relaxed);
    }
}

void histogram::observe(double value) noexcept {
    // The first bound >= value: Prometheus buckets are "less than or equal".
    auto const index = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    auto& s = stripes_[thread_stripe()];
    s.buckets[index].fetch_add(1, std::memory_order_relaxed);
    s.sum.fetch_add(value, std::memory_order_relaxed);
}

histogram::snapshot histogram::collect() const {
    snapshot out;
    out.bounds = bounds_;
    std::vector<std::uint64_t> per_bucket(bounds_.size() + 1, 0);
    for (auto const& s : stripes_) {
        for (std::size_t i = 0; i <= bounds_.size(); ++i) per_bucket[i] += s.buckets[i].load(std::memory_order_relaxed);
        out.sum += s.sum.load(std::memory_order_relaxed);
    }
    std::uint64_t running = 0;
    for (auto n : per_bucket) {
        running += n;
        out.cumulative.push_back(running);
    }
    out.count = running;
    return out;
}

std::vector<double> histogram::latency_bounds() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace kp::metrics
