// store::memory_store: numbering, retention, spans, timestamp positions and idempotency.

#include "store/memory_store.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using kp::store::append_entry;
using kp::store::append_event;
using kp::store::appended_event;
using kp::store::channel_offset;
using kp::store::memory_store;
using kp::store::retention;

namespace {

append_event event(std::string key, std::vector<std::string> const& channels, std::int64_t timestamp = 0) {
    append_event out;
    out.dedupe_key = std::move(key);
    for (auto const& channel : channels)
        out.entries.push_back({channel, timestamp, R"({"payload":{"k":")" + out.dedupe_key + R"("}})"});
    return out;
}

std::vector<std::uint64_t> offsets_of(std::vector<kp::store::event_record> const& records) {
    std::vector<std::uint64_t> out;
    for (auto const& r : records) out.push_back(r.offset);
    return out;
}

// A clock the test moves by hand.
struct manual_clock {
    std::int64_t now = 1'000'000;
    memory_store::clock_fn fn() {
        return [this] { return now; };
    }
};

}  // namespace

TEST_CASE("offsets are contiguous per channel, from 1", "[store]") {
    memory_store store(retention{});
    auto const first = store.append({event("e1", {"/buckets/b/collections/c", "/buckets/b", "/buckets"})});
    REQUIRE(first.size() == 1);
    CHECK_FALSE(first[0].duplicate);
    CHECK(first[0].offsets == std::vector<channel_offset>{
                                  {"/buckets/b/collections/c", 1}, {"/buckets/b", 1}, {"/buckets", 1}});

    auto const next = store.append({event("e2", {"/buckets/b/collections/d", "/buckets/b", "/buckets"}),
                                    event("e3", {"/buckets/b/collections/c", "/buckets/b", "/buckets"})});
    REQUIRE(next.size() == 2);
    CHECK(next[0].offsets == std::vector<channel_offset>{
                                 {"/buckets/b/collections/d", 1}, {"/buckets/b", 2}, {"/buckets", 2}});
    CHECK(next[1].offsets == std::vector<channel_offset>{
                                 {"/buckets/b/collections/c", 2}, {"/buckets/b", 3}, {"/buckets", 3}});

    CHECK(offsets_of(store.read("/buckets", 0, 100)) == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(offsets_of(store.read("/buckets/b/collections/c", 0, 100)) == std::vector<std::uint64_t>{1, 2});
    CHECK(store.read("/buckets/unknown", 0, 100).empty());
}

TEST_CASE("read returns records after an offset, oldest first, at most limit", "[store]") {
    manual_clock clock;
    memory_store store(retention{}, 100, clock.fn());
    for (int i = 1; i <= 5; ++i) {
        clock.now = 1'000'000 + i;
        store.append({event("e" + std::to_string(i), {"/buckets/b"}, 100 * i)});
    }
    CHECK(offsets_of(store.read("/buckets/b", 0, 100)) == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
    CHECK(offsets_of(store.read("/buckets/b", 2, 100)) == std::vector<std::uint64_t>{3, 4, 5});
    CHECK(offsets_of(store.read("/buckets/b", 1, 2)) == std::vector<std::uint64_t>{2, 3});
    CHECK(store.read("/buckets/b", 5, 100).empty());
    CHECK(store.read("/buckets/b", 99, 100).empty());
    CHECK(store.read("/buckets/b", 0, 0).empty());

    auto const records = store.read("/buckets/b", 3, 1);
    REQUIRE(records.size() == 1);
    CHECK(records[0].channel == "/buckets/b");
    CHECK(records[0].offset == 4);
    CHECK(records[0].timestamp == 400);
    CHECK(records[0].stored_at_ms == 1'000'004);
    CHECK(records[0].body == R"({"payload":{"k":"e4"}})");
}

TEST_CASE("span gives first, last and trimmed", "[store]") {
    memory_store store(retention{3, 86'400'000});
    auto span = store.span("/buckets/b");
    CHECK(span.first == 0);
    CHECK(span.last == 0);
    CHECK_FALSE(span.trimmed);

    store.append({event("e1", {"/buckets/b"}), event("e2", {"/buckets/b"})});
    span = store.span("/buckets/b");
    CHECK(span.first == 1);
    CHECK(span.last == 2);
    CHECK_FALSE(span.trimmed);
}

TEST_CASE("retention by count keeps the last max_events per channel", "[store]") {
    memory_store store(retention{3, 86'400'000});
    for (int i = 1; i <= 5; ++i) store.append({event("e" + std::to_string(i), {"/buckets/b", "/buckets"})});
    store.append({event("other", {"/buckets/c"})});

    auto const span = store.span("/buckets/b");
    CHECK(span.first == 3);
    CHECK(span.last == 5);
    CHECK(span.trimmed);
    CHECK(offsets_of(store.read("/buckets/b", 0, 100)) == std::vector<std::uint64_t>{3, 4, 5});
    CHECK(offsets_of(store.read("/buckets/b", 3, 100)) == std::vector<std::uint64_t>{4, 5});
    CHECK(offsets_of(store.read("/buckets", 0, 100)) == std::vector<std::uint64_t>{3, 4, 5});
    // Another channel's retention is its own.
    CHECK(store.span("/buckets/c").first == 1);
    CHECK_FALSE(store.span("/buckets/c").trimmed);
    // Offsets keep counting after trimming.
    auto const next = store.append({event("e6", {"/buckets/b"})});
    CHECK(next[0].offsets == std::vector<channel_offset>{{"/buckets/b", 6}});
    CHECK(store.span("/buckets/b").first == 4);
}

TEST_CASE("retention by age drops events older than max_age_ms", "[store]") {
    manual_clock clock;
    memory_store store(retention{1000, 10'000}, 100, clock.fn());
    clock.now = 0;
    store.append({event("e1", {"/buckets/b"})});
    clock.now = 5'000;
    store.append({event("e2", {"/buckets/b"})});

    store.trim(10'000);   // e1 is exactly 10 s old: kept
    CHECK(store.span("/buckets/b").first == 1);
    CHECK_FALSE(store.span("/buckets/b").trimmed);

    store.trim(10'001);
    auto span = store.span("/buckets/b");
    CHECK(span.first == 2);
    CHECK(span.last == 2);
    CHECK(span.trimmed);
    CHECK(offsets_of(store.read("/buckets/b", 0, 10)) == std::vector<std::uint64_t>{2});

    store.trim(100'000);
    span = store.span("/buckets/b");
    CHECK(span.first == 0);   // empty history
    CHECK(span.last == 2);    // the last offset ever given is kept
    CHECK(span.trimmed);
    CHECK(store.read("/buckets/b", 0, 10).empty());

    // The numbering carries on.
    clock.now = 100'000;
    auto const next = store.append({event("e3", {"/buckets/b"})});
    CHECK(next[0].offsets == std::vector<channel_offset>{{"/buckets/b", 3}});
    CHECK(store.span("/buckets/b").first == 3);
}

TEST_CASE("an append trims its channels by age with the store's clock", "[store]") {
    manual_clock clock;
    memory_store store(retention{1000, 10'000}, 100, clock.fn());
    clock.now = 0;
    store.append({event("e1", {"/buckets/b"})});
    clock.now = 20'000;
    store.append({event("e2", {"/buckets/b"})});
    auto const span = store.span("/buckets/b");
    CHECK(span.first == 2);
    CHECK(span.trimmed);
}

TEST_CASE("position_after finds the first event with timestamp > T", "[store]") {
    memory_store store(retention{3, 86'400'000});
    CHECK(store.position_after("/buckets/b/collections/c", 5).after == 0);
    CHECK(store.position_after("/buckets/b/collections/c", 5).covered);

    std::string const channel = "/buckets/b/collections/c";
    store.append({event("e1", {channel}, 100), event("e2", {channel}, 200), event("e3", {channel}, 300)});

    SECTION("never trimmed: always covered") {
        auto p = store.position_after(channel, 150);
        CHECK(p.after == 1);
        CHECK(p.covered);
        p = store.position_after(channel, 200);
        CHECK(p.after == 2);
        CHECK(p.covered);
        p = store.position_after(channel, 50);
        CHECK(p.after == 0);
        CHECK(p.covered);
        p = store.position_after(channel, 300);
        CHECK(p.after == 3);
        CHECK(p.covered);
        p = store.position_after(channel, 1'000);
        CHECK(p.after == 3);
        CHECK(p.covered);
    }
    SECTION("trimmed: covered only while an event with timestamp <= T is held") {
        store.append({event("e4", {channel}, 400)});   // drops offset 1 (timestamp 100)
        REQUIRE(store.span(channel).trimmed);
        auto p = store.position_after(channel, 250);
        CHECK(p.after == 2);
        CHECK(p.covered);
        p = store.position_after(channel, 200);
        CHECK(p.after == 2);
        CHECK(p.covered);
        p = store.position_after(channel, 150);
        CHECK(p.after == 1);
        CHECK_FALSE(p.covered);
    }
    SECTION("timestamps out of order: the first greater one starts the replay") {
        std::string const other = "/buckets/b/collections/d";
        store.append({event("o1", {other}, 500), event("o2", {other}, 100)});
        auto p = store.position_after(other, 150);
        CHECK(p.after == 0);
        CHECK(p.covered);
    }
}

TEST_CASE("channels_with_prefix lists channels with history, sorted", "[store]") {
    memory_store store(retention{});
    store.append({event("e1", {"/buckets/b/collections/z", "/buckets/b", "/buckets"}),
                  event("e2", {"/buckets/b/collections/a", "/buckets/b", "/buckets"}),
                  event("e3", {"/buckets/bb/collections/x", "/buckets/bb", "/buckets"})});
    CHECK(store.channels_with_prefix("/buckets/b/collections/") ==
          std::vector<std::string>{"/buckets/b/collections/a", "/buckets/b/collections/z"});
    CHECK(store.channels_with_prefix("/buckets/bb/collections/") ==
          std::vector<std::string>{"/buckets/bb/collections/x"});
    CHECK(store.channels_with_prefix("/buckets/none/collections/").empty());
    CHECK(store.channels_with_prefix("/buckets").size() == 6);
    // Reads of unknown channels do not make them known.
    store.read("/buckets/q/collections/r", 0, 1);
    store.span("/buckets/q/collections/s");
    store.position_after("/buckets/q/collections/t", 1);
    CHECK(store.channels_with_prefix("/buckets/q/").empty());
}

TEST_CASE("a known dedupe key gets its first offsets back and stores nothing", "[store]") {
    memory_store store(retention{});
    auto const first = store.append({event("k1", {"/buckets/b", "/buckets"})});
    store.append({event("k2", {"/buckets/b", "/buckets"})});
    auto const again = store.append({event("k1", {"/buckets/b", "/buckets"}), event("k3", {"/buckets/b", "/buckets"})});
    REQUIRE(again.size() == 2);
    CHECK(again[0].duplicate);
    CHECK(again[0].offsets == first[0].offsets);
    CHECK_FALSE(again[1].duplicate);
    CHECK(again[1].offsets == std::vector<channel_offset>{{"/buckets/b", 3}, {"/buckets", 3}});
    CHECK(store.span("/buckets/b").last == 3);

    // Twice in one transaction: stored once.
    auto const twice = store.append({event("k4", {"/buckets/b"}), event("k4", {"/buckets/b"})});
    CHECK_FALSE(twice[0].duplicate);
    CHECK(twice[1].duplicate);
    CHECK(twice[1].offsets == twice[0].offsets);
    CHECK(store.span("/buckets/b").last == 4);

    // An empty key is never deduplicated.
    store.append({event("", {"/buckets/b"}), event("", {"/buckets/b"})});
    CHECK(store.span("/buckets/b").last == 6);
}

TEST_CASE("dedupe keys are forgotten past the capacity", "[store]") {
    memory_store store(retention{}, 2);
    store.append({event("k1", {"/buckets/b"})});
    store.append({event("k2", {"/buckets/b"})});
    CHECK(store.append({event("k1", {"/buckets/b"})})[0].duplicate);   // still within the 2 remembered
    store.append({event("k3", {"/buckets/b"})});                       // k1 is the oldest: forgotten
    CHECK(store.span("/buckets/b").last == 3);
    auto const k1 = store.append({event("k1", {"/buckets/b"})});
    CHECK_FALSE(k1[0].duplicate);
    CHECK(k1[0].offsets == std::vector<channel_offset>{{"/buckets/b", 4}});
    CHECK(store.append({event("k3", {"/buckets/b"})})[0].duplicate);
}

TEST_CASE("dedupe keys expire with the history's age limit", "[store]") {
    manual_clock clock;
    memory_store store(retention{1000, 10'000}, 100, clock.fn());
    clock.now = 0;
    store.append({event("k1", {"/buckets/b"})});
    clock.now = 9'000;
    CHECK(store.append({event("k1", {"/buckets/b"})})[0].duplicate);
    store.trim(10'001);
    clock.now = 10'001;
    auto const again = store.append({event("k1", {"/buckets/b"})});
    CHECK_FALSE(again[0].duplicate);
    CHECK(again[0].offsets == std::vector<channel_offset>{{"/buckets/b", 2}});

    // Appends sweep expired keys too, without a trim() call.
    clock.now = 30'000;
    store.append({event("k2", {"/buckets/b"})});
    CHECK_FALSE(store.append({event("k1", {"/buckets/b"})})[0].duplicate);
    CHECK(store.span("/buckets/b").last == 4);
}

TEST_CASE("epoch is 8 lowercase hex digits and differs between stores", "[store]") {
    memory_store a(retention{});
    memory_store b(retention{});
    for (auto const& epoch : {a.epoch(), b.epoch()}) {
        CAPTURE(epoch);
        REQUIRE(epoch.size() == 8);
        for (char c : epoch) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
    }
    CHECK(a.epoch() == a.epoch());
    CHECK(a.epoch() != b.epoch());
    CHECK(a.kind() == "memory");
    CHECK(a.healthy());
}
