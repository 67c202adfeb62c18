// bench/loadgen latency_histogram: the log-linear buckets, percentiles, merging.

#include "bench/loadgen/latency_histogram.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using kp::loadgen::latency_histogram;

TEST_CASE("every value falls in a bucket whose upper edge is within 3.2% above it", "[loadgen]") {
    for (std::uint64_t v : {0ull, 1ull, 63ull, 64ull, 65ull, 1000ull, 123'456ull, 999'999'999ull, 1ull << 40,
                            (1ull << 63) + 12345}) {
        auto const i = latency_histogram::index_of(v);
        auto const edge = latency_histogram::upper_edge(i);
        CHECK(edge >= v);
        CHECK(static_cast<double>(edge - v) <= 0.032 * static_cast<double>(v) + 1);
        if (i > 0) CHECK(latency_histogram::upper_edge(i - 1) < v);
    }
}

TEST_CASE("percentiles of 1..1000 ms are within the bucket precision", "[loadgen]") {
    latency_histogram h;
    for (std::uint64_t ms = 1; ms <= 1000; ++ms) h.record(ms * 1'000'000);
    CHECK(h.count() == 1000);
    CHECK(h.max() == 1'000'000'000);
    CHECK(h.percentile(0.5) == Approx(500e6).epsilon(0.032));
    CHECK(h.percentile(0.99) == Approx(990e6).epsilon(0.032));
    CHECK(h.percentile(1.0) == 1'000'000'000);   // clamped to the largest value
    CHECK(h.mean() == Approx(500.5e6));
}

TEST_CASE("an empty histogram reports zeros", "[loadgen]") {
    latency_histogram h;
    CHECK(h.percentile(0.99) == 0);
    CHECK(h.mean() == 0);
    CHECK(h.summary_ms()["count"] == 0);
}

TEST_CASE("merging equals recording everything in one, also through JSON", "[loadgen]") {
    latency_histogram a, b, all;
    for (std::uint64_t v = 1; v < 5000; v += 7) {
        (v % 2 ? a : b).record(v * 1000);
        all.record(v * 1000);
    }
    latency_histogram merged = a;
    merged.merge(b);
    CHECK(merged.count() == all.count());
    CHECK(merged.max() == all.max());
    CHECK(merged.percentile(0.5) == all.percentile(0.5));
    CHECK(merged.percentile(0.999) == all.percentile(0.999));
    auto const back = latency_histogram::from_json(merged.to_json());
    CHECK(back.count() == all.count());
    CHECK(back.percentile(0.9) == all.percentile(0.9));
    CHECK(back.mean() == Approx(all.mean()));
}
