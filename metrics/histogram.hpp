#pragma once
// A distribution in fixed buckets (Prometheus histogram). observe() finds the bucket and does
// two relaxed atomic adds on the calling thread's stripe; collect() sums the stripes into
// cumulative counts. During a scrape, `count` and `sum` may disagree by the observations in
// flight, as Prometheus allows.

#include "metrics/thread_stripe.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace kp::metrics {

class histogram {
public:
    // `bounds`: the buckets' upper bounds (inclusive), strictly increasing, finite; +Inf is
    // implied. Throws std::invalid_argument otherwise.
    explicit histogram(std::vector<double> bounds);

    void observe(double value) noexcept;

    struct snapshot {
        std::vector<double> bounds;           // without +Inf
        std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
        std::uint64_t count = 0;
        double sum = 0;
    };
    snapshot collect() const;

    // Seconds from 0.5 ms to 10 s: request, store and delivery latencies.
    static std::vector<double> latency_bounds();

private:
    struct alignas(64) stripe {
        std::unique_ptr<std::atomic<std::uint64_t>[]> buckets;   // bounds + 1 (+Inf)
        std::atomic<double> sum{0};
    };
    std::vector<double> bounds_;
    std::array<stripe, stripe_count> stripes_;
};

}  // namespace kp::metrics
