// The history_store contract (store/history_store.hpp, PROTOCOL.md sections 2-3), one set of
// behaviour tests run against every implementation: memory_store, sqlite_store with a tail
// cache holding everything (reads served from memory), and sqlite_store with a tail cache of 2
// events (reads mostly served from the disk). Each sqlite store lives in a fresh temp dir.
// redis_store runs the tests that do not move the clock (Redis stamps events with its own
// clock), with a tail cache holding everything and with one of 2 events (reads and timestamp
// positions then asked of Redis), each against its own redis-server on a free loopback port
// (Debian's redis-server, from scripts/install-deps test), the only sockets of the unit tests.
// The wall clock is injected through the constructors' clock_fn, so age retention is
// deterministic; trim() gets its `now` explicitly.
//
// Retention by count is applied as events are appended; retention by age by trim(now)
// (history_store.hpp). Retention tests also assert on the state after trim(now).

#include "store/history_store.hpp"
#include "store/memory_store.hpp"
#include "store/redis_store.hpp"
#include "store/sqlite_store.hpp"

#include "tests/unit/store/store_test_servers.hpp"
#include "tests/unit/store/store_test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using kp::store::append_event;
using kp::store::channel_offset;
using kp::store::channel_span;
using kp::store::event_record;
using kp::store::history_store;
using kp::store::retention;
using kp::store::timestamp_position;

namespace {

using store_test::redis_server;
using store_test::temp_dir;

constexpr std::int64_t start_ms = 1'700'000'000'000;

// The wall clock the stores see; tests move it by hand. It outlives the store (the backend
// owns both, and the store is destroyed first).
struct manual_clock {
    std::int64_t now = start_ms;
};

// One backend per implementation. `make` builds a fresh, empty store with `limits`.
struct memory_backend {
    static constexpr bool whole_history_in_memory = true;
    manual_clock clock;
    std::unique_ptr<history_store> make(retention limits) {
        return std::make_unique<kp::store::memory_store>(limits, 100'000, [this] { return clock.now; });
    }
};

template <std::size_t CacheSize>
struct sqlite_backend_with_cache {
    static constexpr bool whole_history_in_memory = CacheSize >= 1000;
    manual_clock clock;
    temp_dir dir;
    std::unique_ptr<history_store> make(retention limits) {
        return std::make_unique<kp::store::sqlite_store>((dir.path() / "history.sqlite3").string(), limits,
                                                         kp::store::durability::normal, CacheSize,
                                                         [this] { return clock.now; });
    }
};

using sqlite_backend = sqlite_backend_with_cache<1000>;
using sqlite_small_cache_backend = sqlite_backend_with_cache<2>;

template <std::size_t CacheSize>
struct redis_backend_with_cache {
    static constexpr bool whole_history_in_memory = CacheSize >= 1000;
    manual_clock clock;   // not seen by the store: Redis stamps events
    redis_server server;
    std::unique_ptr<history_store> make(retention limits) {
        kp::store::redis_endpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = server.port();
        // The store retries until redis-server accepts connections (it starts in milliseconds).
        return std::make_unique<kp::store::redis_store>(endpoint, limits, CacheSize);
    }
};

using redis_backend = redis_backend_with_cache<1000>;
using redis_small_cache_backend = redis_backend_with_cache<2>;

using namespace store_test;

void check_position(timestamp_position const& p, std::uint64_t after, bool covered) {
    INFO("position {after " << p.after << ", covered " << p.covered << "}");
    CHECK(p.after == after);
    CHECK(p.covered == covered);
}

// position_after, with position_in_memory checked against it: no answer (the disk or Redis is
// needed) or the same one; a store whose memory tail holds every event always answers.
template <class Backend>
timestamp_position locate(history_store& store, std::string const& channel, std::int64_t timestamp) {
    auto const position = store.position_after(channel, timestamp);
    auto const in_memory = store.position_in_memory(channel, timestamp);
    INFO("channel " << channel << ", timestamp " << timestamp);
    CHECK((in_memory.has_value() || !Backend::whole_history_in_memory));
    if (in_memory) {
        CHECK(in_memory->after == position.after);
        CHECK(in_memory->covered == position.covered);
    }
    return position;
}

// Appends `count` single-channel events to `channel`, keys `prefix`1…, timestamps 100, 200, …
void fill(history_store& store, std::string const& channel, int count, std::string const& prefix = "e") {
    for (int i = 1; i <= count; ++i)
        store.append({event(prefix + std::to_string(i), {channel}, 100 * i)});
}

}  // namespace

#define STORE_BACKENDS memory_backend, sqlite_backend, sqlite_small_cache_backend
// The tests that never move the clock also run against Redis.
#define ALL_STORE_BACKENDS STORE_BACKENDS, redis_backend, redis_small_cache_backend

TEMPLATE_TEST_CASE("history store: a new store is empty and healthy", "[store][contract]", ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{});
    CHECK_FALSE(store->epoch().empty());
    CHECK(store->epoch() == store->epoch());
    CHECK(store->healthy());
    check_span(store->span(col_c), 0, 0, false);
    CHECK(store->read(col_c, 0, 100).empty());
    CHECK(store->channels_with_prefix("").empty());
    check_position(store->position_after(col_c, 123), 0, true);
}

TEMPLATE_TEST_CASE("history store: offsets start at 1, contiguous per channel, independent across channels",
                   "[store][contract]", ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{});

    auto const first = store->append({event("e1", {col_c, bucket_b, firehose}, 100)});
    REQUIRE(first.size() == 1);
    CHECK_FALSE(first[0].duplicate);
    CHECK(first[0].offsets == std::vector<channel_offset>{{col_c, 1}, {bucket_b, 1}, {firehose, 1}});

    auto const next = store->append({event("e2", {col_d, bucket_b, firehose}, 200),
                                     event("e3", {col_c, bucket_b, firehose}, 300)});
    REQUIRE(next.size() == 2);
    CHECK_FALSE(next[0].duplicate);
    CHECK_FALSE(next[1].duplicate);
    CHECK(next[0].offsets == std::vector<channel_offset>{{col_d, 1}, {bucket_b, 2}, {firehose, 2}});
    CHECK(next[1].offsets == std::vector<channel_offset>{{col_c, 2}, {bucket_b, 3}, {firehose, 3}});

    // An event with no dedupe key is never a duplicate.
    auto const anonymous = store->append({event("", {col_c}, 400), event("", {col_c}, 400)});
    REQUIRE(anonymous.size() == 2);
    CHECK(anonymous[0].offsets == std::vector<channel_offset>{{col_c, 3}});
    CHECK(anonymous[1].offsets == std::vector<channel_offset>{{col_c, 4}});
    CHECK_FALSE(anonymous[1].duplicate);

    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(1, 4));
    CHECK(offsets_of(store->read(col_d, 0, 100)) == range(1, 1));
    CHECK(offsets_of(store->read(bucket_b, 0, 100)) == range(1, 3));
    CHECK(offsets_of(store->read(firehose, 0, 100)) == range(1, 3));
    check_span(store->span(col_c), 1, 4, false);
    check_span(store->span(col_d), 1, 1, false);
    check_span(store->span(bucket_b), 1, 3, false);
    check_span(store->span("/buckets/other"), 0, 0, false);
    CHECK(store->read("/buckets/other", 0, 100).empty());
}

TEMPLATE_TEST_CASE("history store: records keep what was appended", "[store][contract]", STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{});
    backend.clock.now = start_ms + 5;
    store->append({event("e1", {col_c, bucket_b}, 1717000000456)});
    backend.clock.now = start_ms + 9;
    store->append({event("e2", {col_c}, 1717000000999)});

    auto const records = store->read(col_c, 0, 100);
    REQUIRE(records.size() == 2);
    CHECK(records[0].channel == col_c);
    CHECK(records[0].offset == 1);
    CHECK(records[0].timestamp == 1717000000456);
    CHECK(records[0].stored_at_ms == start_ms + 5);
    CHECK(records[0].body == body_of("e1", col_c));
    CHECK(records[1].channel == col_c);
    CHECK(records[1].offset == 2);
    CHECK(records[1].timestamp == 1717000000999);
    CHECK(records[1].stored_at_ms == start_ms + 9);
    CHECK(records[1].body == body_of("e2", col_c));

    auto const bucket = store->read(bucket_b, 0, 100);
    REQUIRE(bucket.size() == 1);
    CHECK(bucket[0].channel == bucket_b);
    CHECK(bucket[0].body == body_of("e1", bucket_b));
}

TEMPLATE_TEST_CASE("history store: append_group applies its transactions in order", "[store][contract]",
                   ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{});
    store->append({event("e0", {col_c, bucket_b})});

    std::vector<std::vector<append_event>> const group{
        {event("t1a", {col_c, bucket_b}, 100), event("t1b", {col_d, bucket_b}, 110)},
        {event("t2a", {col_d, bucket_b}, 200)},
        {event("t3a", {col_c}, 300), event("t3b", {bucket_b}, 310), event("t3c", {col_c, bucket_b}, 320)},
    };
    auto const results = store->append_group(group);
    REQUIRE(results.size() == 3);
    REQUIRE(results[0].size() == 2);
    REQUIRE(results[1].size() == 1);
    REQUIRE(results[2].size() == 3);
    CHECK(results[0][0].offsets == std::vector<channel_offset>{{col_c, 2}, {bucket_b, 2}});
    CHECK(results[0][1].offsets == std::vector<channel_offset>{{col_d, 1}, {bucket_b, 3}});
    CHECK(results[1][0].offsets == std::vector<channel_offset>{{col_d, 2}, {bucket_b, 4}});
    CHECK(results[2][0].offsets == std::vector<channel_offset>{{col_c, 3}});
    CHECK(results[2][1].offsets == std::vector<channel_offset>{{bucket_b, 5}});
    CHECK(results[2][2].offsets == std::vector<channel_offset>{{col_c, 4}, {bucket_b, 6}});
    for (auto const& transaction : results)
        for (auto const& e : transaction) CHECK_FALSE(e.duplicate);

    // The bucket channel holds the group's parts in the group's order.
    auto const records = store->read(bucket_b, 1, 100);
    std::vector<std::string> bodies;
    for (auto const& r : records) bodies.push_back(r.body);
    CHECK(bodies == std::vector<std::string>{body_of("t1a", bucket_b), body_of("t1b", bucket_b),
                                             body_of("t2a", bucket_b), body_of("t3b", bucket_b),
                                             body_of("t3c", bucket_b)});
    CHECK(offsets_of(records) == range(2, 6));
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(1, 4));
    CHECK(offsets_of(store->read(col_d, 0, 100)) == range(1, 2));

    // An empty group stores nothing.
    CHECK(store->append_group({}).empty());
    check_span(store->span(bucket_b), 1, 6, false);
}

TEMPLATE_TEST_CASE("history store: read(after, limit) order, limit and positions beyond the head",
                   "[store][contract]", ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{});
    fill(*store, col_c, 6);

    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(1, 6));
    CHECK(offsets_of(store->read(col_c, 2, 100)) == range(3, 6));
    CHECK(offsets_of(store->read(col_c, 1, 2)) == range(2, 3));
    CHECK(offsets_of(store->read(col_c, 0, 1)) == range(1, 1));
    CHECK(offsets_of(store->read(col_c, 5, 100)) == range(6, 6));
    CHECK(store->read(col_c, 6, 100).empty());
    CHECK(store->read(col_c, 7, 100).empty());
    CHECK(store->read(col_c, 1'000'000, 100).empty());
    CHECK(store->read(col_c, 0, 0).empty());

    // Reads in pages, the way a replay does, see every event once, in order.
    std::vector<std::uint64_t> paged;
    std::uint64_t after = 0;
    for (;;) {
        auto page = store->read(col_c, after, 4);
        if (page.empty()) break;
        for (auto const& r : page) paged.push_back(r.offset);
        after = page.back().offset;
    }
    CHECK(paged == range(1, 6));

    auto const one = store->read(col_c, 3, 1);
    REQUIRE(one.size() == 1);
    CHECK(one[0].offset == 4);
    CHECK(one[0].timestamp == 400);
    CHECK(one[0].body == body_of("e4", col_c));
}

TEMPLATE_TEST_CASE("history store: retention by count, after trim", "[store][contract]", ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{3, 86'400'000});
    fill(*store, col_c, 5);
    fill(*store, col_d, 2, "d");
    store->trim(backend.clock.now);

    check_span(store->span(col_c), 3, 5, true);
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(3, 5));
    CHECK(offsets_of(store->read(col_c, 1, 100)) == range(3, 5));
    CHECK(offsets_of(store->read(col_c, 3, 100)) == range(4, 5));
    // A channel under the limit is untouched.
    check_span(store->span(col_d), 1, 2, false);
    CHECK(offsets_of(store->read(col_d, 0, 100)) == range(1, 2));

    // Numbering carries on; the window slides.
    fill(*store, col_c, 2, "more");
    store->trim(backend.clock.now);
    check_span(store->span(col_c), 5, 7, true);
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(5, 7));
    auto const records = store->read(col_c, 0, 100);
    REQUIRE(records.size() == 3);
    CHECK(records[0].body == body_of("e5", col_c));
    CHECK(records[2].body == body_of("more2", col_c));

    // Trimming again changes nothing.
    store->trim(backend.clock.now);
    check_span(store->span(col_c), 5, 7, true);
}

TEMPLATE_TEST_CASE("history store: retention by count applies as events are appended", "[store][contract]",
                   ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{3, 86'400'000});
    fill(*store, col_c, 5);
    check_span(store->span(col_c), 3, 5, true);
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(3, 5));

    // Also within one transaction, and one group.
    auto const one = store->append({event("t1", {col_d}, 1), event("t2", {col_d}, 2), event("t3", {col_d}, 3),
                                    event("t4", {col_d}, 4), event("t5", {col_d}, 5)});
    REQUIRE(one.size() == 5);
    CHECK(one[4].offsets == std::vector<channel_offset>{{col_d, 5}});
    check_span(store->span(col_d), 3, 5, true);
    CHECK(offsets_of(store->read(col_d, 0, 100)) == range(3, 5));

    std::vector<std::vector<append_event>> const group{
        {event("g1", {bucket_b, col_d}, 6), event("g2", {bucket_b}, 7)},
        {event("g3", {bucket_b}, 8), event("g4", {bucket_b, col_d}, 9)},
    };
    store->append_group(group);
    check_span(store->span(bucket_b), 2, 4, true);
    check_span(store->span(col_d), 5, 7, true);
    CHECK(offsets_of(store->read(bucket_b, 0, 100)) == range(2, 4));
    CHECK(offsets_of(store->read(col_d, 0, 100)) == range(5, 7));
    auto const records = store->read(col_d, 4, 100);
    REQUIRE(records.size() == 3);
    CHECK(records[0].body == body_of("t5", col_d));
    CHECK(records[1].body == body_of("g1", col_d));
    CHECK(records[2].body == body_of("g4", col_d));
}

TEMPLATE_TEST_CASE("history store: retention by age, after trim", "[store][contract]", STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{1000, 1000});
    backend.clock.now = start_ms;
    store->append({event("e1", {col_c, bucket_b}, 100)});
    backend.clock.now = start_ms + 500;
    store->append({event("e2", {col_c}, 200)});
    backend.clock.now = start_ms + 900;
    store->append({event("e3", {col_c, bucket_b}, 300)});

    // Exactly max_age_ms old is still kept.
    store->trim(start_ms + 1000);
    check_span(store->span(col_c), 1, 3, false);
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(1, 3));

    // Older than max_age_ms is dropped.
    store->trim(start_ms + 1001);
    check_span(store->span(col_c), 2, 3, true);
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(2, 3));
    check_span(store->span(bucket_b), 2, 2, true);
    CHECK(offsets_of(store->read(bucket_b, 0, 100)) == range(2, 2));

    store->trim(start_ms + 1501);
    check_span(store->span(col_c), 3, 3, true);
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(3, 3));

    // Everything aged out: the history is empty, but its numbering is not forgotten.
    backend.clock.now = start_ms + 5000;
    store->trim(backend.clock.now);
    check_span(store->span(col_c), 0, 3, true);
    check_span(store->span(bucket_b), 0, 2, true);
    CHECK(store->read(col_c, 0, 100).empty());
    CHECK(store->read(bucket_b, 0, 100).empty());

    auto const next = store->append({event("e4", {col_c, bucket_b}, 400)});
    CHECK(next[0].offsets == std::vector<channel_offset>{{col_c, 4}, {bucket_b, 3}});
    check_span(store->span(col_c), 4, 4, true);
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(4, 4));
    CHECK(offsets_of(store->read(bucket_b, 0, 100)) == range(3, 3));
}

TEMPLATE_TEST_CASE("history store: position_after finds the first event newer than a timestamp",
                   "[store][contract]", ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{3, 86'400'000});

    SECTION("never trimmed") {
        fill(*store, col_c, 3);   // timestamps 100, 200, 300 at offsets 1, 2, 3
        check_position(locate<TestType>(*store, col_c, 50), 0, true);
        check_position(locate<TestType>(*store, col_c, 99), 0, true);
        check_position(locate<TestType>(*store, col_c, 100), 1, true);
        check_position(locate<TestType>(*store, col_c, 150), 1, true);
        check_position(locate<TestType>(*store, col_c, 299), 2, true);
        check_position(locate<TestType>(*store, col_c, 300), 3, true);
        check_position(locate<TestType>(*store, col_c, 99'999), 3, true);
        // A channel without history starts at 0 and was never trimmed (a store with a disk
        // may have to look there to know it has none).
        check_position(store->position_after(col_d, 100), 0, true);
    }

    SECTION("timestamps out of order (Kinto orders a batch by first appearance)") {
        store->append({event("a", {col_c}, 300), event("b", {col_c}, 100), event("c", {col_c}, 200)});
        // The first event newer than T, not the oldest one newer than T.
        check_position(locate<TestType>(*store, col_c, 150), 0, true);
        check_position(locate<TestType>(*store, col_c, 50), 0, true);
        check_position(locate<TestType>(*store, col_c, 300), 3, true);
    }

    SECTION("after trimming by count") {
        fill(*store, col_c, 5);   // timestamps 100…500; offsets 3, 4, 5 remain
        store->trim(backend.clock.now);
        check_span(store->span(col_c), 3, 5, true);
        // No held event at or before T: not covered (events 1 and 2 may have been newer than T).
        check_position(locate<TestType>(*store, col_c, 50), 2, false);
        check_position(locate<TestType>(*store, col_c, 250), 2, false);
        // Event 3 (timestamp 300) is held.
        check_position(locate<TestType>(*store, col_c, 300), 3, true);
        check_position(locate<TestType>(*store, col_c, 450), 4, true);
        check_position(locate<TestType>(*store, col_c, 500), 5, true);
        check_position(locate<TestType>(*store, col_c, 99'999), 5, true);
    }
}

TEMPLATE_TEST_CASE("history store: position_after once events aged out", "[store][contract]", STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{1000, 1000});
    backend.clock.now = start_ms;
    fill(*store, col_d, 2);   // timestamps 100, 200
    backend.clock.now = start_ms + 2000;
    store->append({event("late", {col_d}, 300)});
    store->trim(backend.clock.now);
    check_span(store->span(col_d), 3, 3, true);
    check_position(locate<TestType>(*store, col_d, 150), 2, false);
    check_position(locate<TestType>(*store, col_d, 300), 3, true);
    // Everything gone: nothing is held at or before T, and the history was trimmed.
    store->trim(start_ms + 10'000);
    check_span(store->span(col_d), 0, 3, true);
    check_position(locate<TestType>(*store, col_d, 150), 3, false);
    check_position(locate<TestType>(*store, col_d, 99'999), 3, false);
}

TEMPLATE_TEST_CASE("history store: a timestamp older than a small memory tail is not answered from memory",
                   "[store][contract]", sqlite_small_cache_backend, redis_small_cache_backend) {
    TestType backend;
    auto store = backend.make(retention{});
    fill(*store, col_c, 5);   // timestamps 100…500; the tail holds offsets 4 and 5
    CHECK_FALSE(store->position_in_memory(col_c, 150).has_value());
    CHECK_FALSE(store->position_in_memory(col_c, 450).has_value());   // the tail is not the whole history
    check_position(store->position_after(col_c, 150), 1, true);
    check_position(store->position_after(col_c, 450), 4, true);
    // A channel never written to needs no look further.
    check_position(locate<TestType>(*store, col_d, 100), 0, true);
}

TEMPLATE_TEST_CASE("history store: channels_with_prefix", "[store][contract]", ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{});
    store->append({event("e1", {col_c, bucket_b, firehose}),
                   event("e2", {col_d, bucket_b, firehose}),
                   event("e3", {"/buckets/bb/collections/x", "/buckets/bb", firehose}),
                   event("e4", {"/buckets/a/collections/c", "/buckets/a", firehose})});

    CHECK(store->channels_with_prefix("/buckets/b/collections/") == std::vector<std::string>{col_c, col_d});
    CHECK(store->channels_with_prefix("/buckets/b/") == std::vector<std::string>{col_c, col_d});
    CHECK(store->channels_with_prefix("/buckets/b") ==
          std::vector<std::string>{bucket_b, col_c, col_d, "/buckets/bb", "/buckets/bb/collections/x"});
    CHECK(store->channels_with_prefix("/buckets/bb/collections/") ==
          std::vector<std::string>{"/buckets/bb/collections/x"});
    CHECK(store->channels_with_prefix(col_c) == std::vector<std::string>{col_c});
    CHECK(store->channels_with_prefix("/buckets/zz").empty());
    CHECK(store->channels_with_prefix("/other").empty());
    CHECK(store->channels_with_prefix("").size() == 8);
    CHECK(store->channels_with_prefix("/") == store->channels_with_prefix(""));
}

TEMPLATE_TEST_CASE("history store: a known dedupe key answers its first offsets and stores nothing",
                   "[store][contract]", ALL_STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{});
    auto const first = store->append({event("k1", {col_c, bucket_b}, 100)});
    REQUIRE(first.size() == 1);
    CHECK_FALSE(first[0].duplicate);

    SECTION("in a later append") {
        auto const again = store->append({event("k1", {col_c, bucket_b}, 100)});
        REQUIRE(again.size() == 1);
        CHECK(again[0].duplicate);
        CHECK(again[0].offsets == first[0].offsets);
        check_span(store->span(col_c), 1, 1, false);
        check_span(store->span(bucket_b), 1, 1, false);
        CHECK(offsets_of(store->read(col_c, 0, 100)) == range(1, 1));

        // The first offsets, not where the event would land now.
        store->append({event("k2", {col_c, bucket_b}, 200)});
        auto const later = store->append({event("k1", {col_c, bucket_b}, 100)});
        CHECK(later[0].duplicate);
        CHECK(later[0].offsets == std::vector<channel_offset>{{col_c, 1}, {bucket_b, 1}});
        check_span(store->span(col_c), 1, 2, false);
    }

    SECTION("a transaction mixing known and new events stores only the new ones") {
        auto const mixed = store->append({event("k1", {col_c, bucket_b}, 100), event("k2", {col_c, bucket_b}, 200),
                                          event("k1", {col_c, bucket_b}, 100)});
        REQUIRE(mixed.size() == 3);
        CHECK(mixed[0].duplicate);
        CHECK(mixed[0].offsets == first[0].offsets);
        CHECK_FALSE(mixed[1].duplicate);
        CHECK(mixed[1].offsets == std::vector<channel_offset>{{col_c, 2}, {bucket_b, 2}});
        CHECK(mixed[2].duplicate);
        CHECK(mixed[2].offsets == first[0].offsets);
        check_span(store->span(col_c), 1, 2, false);
        auto const records = store->read(col_c, 0, 100);
        REQUIRE(records.size() == 2);
        CHECK(records[1].body == body_of("k2", col_c));
    }

    SECTION("an event repeated within one transaction") {
        auto const twice = store->append({event("k3", {col_d, bucket_b}, 300), event("k3", {col_d, bucket_b}, 300)});
        REQUIRE(twice.size() == 2);
        CHECK_FALSE(twice[0].duplicate);
        CHECK(twice[0].offsets == std::vector<channel_offset>{{col_d, 1}, {bucket_b, 2}});
        CHECK(twice[1].duplicate);
        CHECK(twice[1].offsets == twice[0].offsets);
        check_span(store->span(col_d), 1, 1, false);
        check_span(store->span(bucket_b), 1, 2, false);
    }

    SECTION("an event repeated across the transactions of one group") {
        std::vector<std::vector<append_event>> const group{
            {event("k4", {col_d}, 400)},
            {event("k5", {col_d}, 500), event("k4", {col_d}, 400)},
            {event("k1", {col_c, bucket_b}, 100), event("k4", {col_d}, 400)},
        };
        auto const results = store->append_group(group);
        REQUIRE(results.size() == 3);
        REQUIRE(results[1].size() == 2);
        REQUIRE(results[2].size() == 2);
        CHECK_FALSE(results[0][0].duplicate);
        CHECK(results[0][0].offsets == std::vector<channel_offset>{{col_d, 1}});
        CHECK_FALSE(results[1][0].duplicate);
        CHECK(results[1][0].offsets == std::vector<channel_offset>{{col_d, 2}});
        CHECK(results[1][1].duplicate);
        CHECK(results[1][1].offsets == std::vector<channel_offset>{{col_d, 1}});
        CHECK(results[2][0].duplicate);
        CHECK(results[2][0].offsets == first[0].offsets);
        CHECK(results[2][1].duplicate);
        CHECK(results[2][1].offsets == std::vector<channel_offset>{{col_d, 1}});
        check_span(store->span(col_d), 1, 2, false);
        check_span(store->span(col_c), 1, 1, false);
        CHECK(offsets_of(store->read(col_d, 0, 100)) == range(1, 2));

        // And the keys stay known after the group.
        auto const retry = store->append({event("k5", {col_d}, 500)});
        CHECK(retry[0].duplicate);
        CHECK(retry[0].offsets == std::vector<channel_offset>{{col_d, 2}});
    }
}

TEMPLATE_TEST_CASE("history store: a dedupe key is forgotten with the history's age limit", "[store][contract]",
                   STORE_BACKENDS) {
    TestType backend;
    auto store = backend.make(retention{1000, 1000});
    backend.clock.now = start_ms;
    store->append({event("k1", {col_c}, 100)});
    backend.clock.now = start_ms + 800;
    CHECK(store->append({event("k1", {col_c}, 100)})[0].duplicate);

    backend.clock.now = start_ms + 2000;
    store->trim(backend.clock.now);
    auto const again = store->append({event("k1", {col_c}, 100)});
    CHECK_FALSE(again[0].duplicate);
    CHECK(again[0].offsets == std::vector<channel_offset>{{col_c, 2}});
}

TEST_CASE("history store: memory_store reads are always in memory", "[store][contract]") {
    memory_backend backend;
    auto store = backend.make(retention{2, 1000});
    CHECK(store->read_in_memory(col_c, 0));
    fill(*store, col_c, 5);
    store->trim(backend.clock.now + 10'000);
    for (std::uint64_t after : {0, 1, 2, 5, 6, 1000}) CHECK(store->read_in_memory(col_c, after));
    CHECK(store->read_in_memory("/buckets/none", 0));
    CHECK(store->kind() == "memory");
}

TEST_CASE("history store: kinds", "[store][contract]") {
    sqlite_backend backend;
    CHECK(backend.make(retention{})->kind() == "sqlite");
}
