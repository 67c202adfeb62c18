#include "bench/loadgen/latency_histogram.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>

namespace kp::loadgen {

std::size_t latency_histogram::index_of(std::uint64_t ns) {
    constexpr std::uint64_t sub = 1u << sub_bits;
    if (ns < 2 * sub) return static_cast<std::size_t>(ns);
    int const power = 63 - std::countl_zero(ns);   // >= sub_bits + 1
    int const shift = power - sub_bits;
    return static_cast<std::size_t>((power - sub_bits + 1) * sub + ((ns >> shift) - sub));
}

std::uint64_t latency_histogram::upper_edge(std::size_t index) {
    constexpr std::uint64_t sub = 1u << sub_bits;
    if (index < 2 * sub) return index;
    int const power = static_cast<int>(index / sub) + sub_bits - 1;
    int const shift = power - sub_bits;
    std::uint64_t const step = index % sub;
    std::uint64_t const low = (sub + step) << shift;
    return low + ((std::uint64_t{1} << shift) - 1);
}

void latency_histogram::record(std::uint64_t ns) {
    ++counts_[index_of(ns)];
    ++count_;
    sum_ += ns;
    max_ = std::max(max_, ns);
}

void latency_histogram::merge(latency_histogram const& other) {
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
}

void latency_histogram::clear() { *this = latency_histogram{}; }

std::uint64_t latency_histogram::percentile(double p) const {
    if (count_ == 0) return 0;
    auto const rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::min(upper_edge(i), max_);
    }
    return max_;
}

nlohmann::json latency_histogram::summary_ms() const {
    auto ms = [](std::uint64_t ns) { return std::round(static_cast<double>(ns) / 1e3) / 1e3; };
    return {{"count", count_},          {"p50_ms", ms(percentile(0.50))}, {"p90_ms", ms(percentile(0.90))},
            {"p99_ms", ms(percentile(0.99))}, {"p999_ms", ms(percentile(0.999))}, {"max_ms", ms(max_)},
            {"mean_ms", std::round(mean() / 1e3) / 1e3}};
}

nlohmann::json latency_histogram::to_json() const {
    auto buckets = nlohmann::json::array();
    for (std::size_t i = 0; i < bucket_count; ++i)
        if (counts_[i]) buckets.push_back({i, counts_[i]});
    return {{"buckets", std::move(buckets)}, {"max", max_}, {"sum", sum_}};
}

latency_histogram latency_histogram::from_json(nlohmann::json const& j) {
    latency_histogram h;
    for (auto const& b : j.at("buckets")) {
        auto const i = b.at(0).get<std::size_t>();
        auto const n = b.at(1).get<std::uint64_t>();
        if (i >= bucket_count) continue;
        h.counts_[i] += n;
        h.count_ += n;
    }
    h.max_ = j.at("max").get<std::uint64_t>();
    h.sum_ = j.at("sum").get<std::uint64_t>();
    return h;
}

}  // namespace kp::loadgen
