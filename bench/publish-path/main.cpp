// kp-publish-path-bench: the CPU one POST /v1/events spends in kinto-push's own publishing code
// before any socket is touched, in a tight loop on one thread: the JSON parse of the body (the
// nesting check and parse_json_document, as server/router.cpp runs them) and the Kinto mapping
// (validation, split into the collection, bucket and firehose parts, the idempotency key). For
// comparison, it also times nlohmann's own parse() of the same body. The body is the one kp-loadgen posts in shape (b): a record update with a
// 128-byte bench payload. It prints the median over --reps repetitions of --events events each.
//
//   build/release/bench/publish-path/kp-publish-path-bench [--events 50000] [--reps 7]
//
// Hot caches and no I/O: these are lower bounds for what the same steps cost inside the
// server, where they run between socket reads and writes (docs/benchmarks.md).

#include "bench/loadgen/bench_payload.hpp"
#include "bench/loadgen/kinto_push_protocol.hpp"
#include "channels/json_depth.hpp"
#include "channels/json_document.hpp"
#include "channels/kinto_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

namespace {

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

long parse_count(char const* text, long low, long high, char const* option) {
    char* end = nullptr;
    long const value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < low || value > high) {
        std::fprintf(stderr, "%s must be an integer in %ld..%ld\n", option, low, high);
        std::exit(2);
    }
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    long events = 50000;
    long reps = 7;
    for (int i = 1; i < argc; ++i) {
        bool const has_value = i + 1 < argc;
        if (std::strcmp(argv[i], "--events") == 0 && has_value) {
            events = parse_count(argv[++i], 1, 10'000'000, "--events");
        } else if (std::strcmp(argv[i], "--reps") == 0 && has_value) {
            reps = parse_count(argv[++i], 1, 99, "--reps");
        } else {
            std::fprintf(stderr, "usage: kp-publish-path-bench [--events N] [--reps R]\n");
            return 2;
        }
    }

    kp::loadgen::kinto_push_protocol const protocol{""};
    std::string const payload = kp::loadgen::bench_payload::make(12, 3, 123456789012345, 128);
    std::string const body = protocol.publish("c012", payload, "12345").body;
    kp::channels::kinto_mapping const mapping{[](std::string const&) { return std::vector<std::string>{}; }};

    auto const first = mapping.map(*kp::channels::parse_json_document(body));
    if (!std::holds_alternative<std::vector<kp::store::append_event>>(first)) {
        std::fprintf(stderr, "the bench event was refused: %s\n", std::get<kp::channels::mapping_error>(first).message.c_str());
        return 1;
    }

    std::vector<double> parse_us;
    std::vector<double> nlohmann_us;
    std::vector<double> map_us;
    std::size_t sink = 0;   // keeps the loops' results observable
    auto const per_event = [&](auto from, auto to) {
        return std::chrono::duration<double, std::micro>(to - from).count() / double(events);
    };
    for (long rep = 0; rep < reps; ++rep) {
        auto const t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < events; ++i) {
            if (!kp::channels::json_depth_within(body)) return 1;
            sink += kp::channels::parse_json_document(body)->size();
        }
        auto const t1 = std::chrono::steady_clock::now();
        for (long i = 0; i < events; ++i) sink += nlohmann::ordered_json::parse(body, nullptr, false).size();
        auto const t2 = std::chrono::steady_clock::now();
        auto const doc = *kp::channels::parse_json_document(body);
        for (long i = 0; i < events; ++i) sink += mapping.map(doc).index();
        auto const t3 = std::chrono::steady_clock::now();
        parse_us.push_back(per_event(t0, t1));
        nlohmann_us.push_back(per_event(t1, t2));
        map_us.push_back(per_event(t2, t3));
    }
    std::printf("body %zu bytes, %ld events x %ld reps (check %zu)\n", body.size(), events, reps, sink);
    std::printf("JSON parse      %.2f us per event (median)\n", median(parse_us));
    std::printf("Kinto mapping   %.2f us per event (median)\n", median(map_us));
    std::printf("(nlohmann's parse() alone: %.2f us per event)\n", median(nlohmann_us));
    return 0;
}
