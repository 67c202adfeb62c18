#pragma once
// Fixtures shared by the history store tests: channel names, events, and checks.

#include "store/history_types.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace store_test {

using kp::store::append_event;
using kp::store::channel_span;
using kp::store::event_record;

inline std::string const col_c = "/buckets/b/collections/c";
inline std::string const col_d = "/buckets/b/collections/d";
inline std::string const bucket_b = "/buckets/b";
inline std::string const firehose = "/buckets";

inline std::string body_of(std::string const& key, std::string const& channel) {
    return R"({"payload":{"key":")" + key + R"(","channel":")" + channel + R"("},"impacted_objects":[]})";
}

// An event with identity `key` on `channels`, every part stamped `timestamp`.
inline append_event event(std::string key, std::vector<std::string> const& channels, std::int64_t timestamp = 0) {
    append_event out;
    out.dedupe_key = std::move(key);
    for (auto const& channel : channels) out.entries.push_back({channel, timestamp, body_of(out.dedupe_key, channel)});
    return out;
}

inline std::vector<std::uint64_t> offsets_of(std::vector<event_record> const& records) {
    std::vector<std::uint64_t> out;
    for (auto const& r : records) out.push_back(r.offset);
    return out;
}

inline std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> out;
    for (auto o = first; o <= last; ++o) out.push_back(o);
    return out;
}

inline void check_span(channel_span const& s, std::uint64_t first, std::uint64_t last, bool trimmed) {
    INFO("span {first " << s.first << ", last " << s.last << ", trimmed " << s.trimmed << "}");
    CHECK(s.first == first);
    CHECK(s.last == last);
    CHECK(s.trimmed == trimmed);
}

}  // namespace store_test
