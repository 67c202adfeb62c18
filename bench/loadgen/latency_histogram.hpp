#pragma once
// A log-linear histogram of durations in nanoseconds: exact below 64 ns, then 32 buckets per
// power of two (at most 3.1% of error), up to 2^64 ns. Recording is one index computation and
// one increment; each thread keeps its own and the coordinator merges them.

#include <array>
#include <cstdint>

#include <nlohmann/json_fwd.hpp>

namespace kp::loadgen {

class latency_histogram {
public:
    void record(std::uint64_t ns);
    void merge(latency_histogram const& other);
    void clear();

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
    // The smallest recorded bucket's upper edge at or above the fraction p (0..1) of the
    // values, clamped to the largest value recorded; 0 when empty.
    std::uint64_t percentile(double p) const;

    // {"count","p50_ms","p90_ms","p99_ms","p999_ms","max_ms","mean_ms"}
    nlohmann::json summary_ms() const;
    // Non-empty buckets as [[index, count], ...] plus max and sum: merged back by from_json.
    nlohmann::json to_json() const;
    static latency_histogram from_json(nlohmann::json const& j);

    static std::size_t index_of(std::uint64_t ns);
    static std::uint64_t upper_edge(std::size_t index);

private:
    static constexpr int sub_bits = 5;
    static constexpr std::size_t bucket_count = (64 - sub_bits + 1) * (1u << sub_bits);

    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t sum_ = 0;
};

}  // namespace kp::loadgen
