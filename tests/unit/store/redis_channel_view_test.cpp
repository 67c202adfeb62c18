// This node's view of a Redis history, driven without Redis: transactions as Pub/Sub hands
// them over, stream reads, heads and epochs read at a (re)connection. What it answers is what
// redis_store does next: announce, or read a range from the stream first.

#include "store/redis_channel_view.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using kp::store::event_record;
using kp::store::redis_channel_view;
using kp::store::retention;
using step_kind = redis_channel_view::step::kind;

namespace {

event_record rec(std::string channel, std::uint64_t offset, std::int64_t stored_at_ms = 1000) {
    return {std::move(channel), offset, static_cast<std::int64_t>(offset) * 10, stored_at_ms,
            "{\"n\":" + std::to_string(offset) + "}"};
}

// "a1 b2" for the records' channels and offsets, in order.
std::string names(std::vector<event_record> const& records) {
    std::string out;
    for (auto const& r : records) out += (out.empty() ? "" : " ") + r.channel + std::to_string(r.offset);
    return out;
}

// Announces what is ready; stops at a read or when nothing is left. "|" between transactions.
std::string announce_all(redis_channel_view& view) {
    std::string out;
    for (auto next = view.next(); next.what == step_kind::announce; next = view.next())
        out += (out.empty() ? "" : " | ") + names(next.records);
    return out;
}

redis_channel_view synced_view(retention limits = {}, std::size_t cache_size = 1000) {
    redis_channel_view view(limits, cache_size);
    view.set_epoch("e1");
    REQUIRE_FALSE(view.sync({}, {}).went_back);
    return view;
}

void check_read(redis_channel_view::step const& next, std::string const& channel, std::uint64_t after,
                std::uint64_t through, bool gap) {
    REQUIRE(next.what == step_kind::read);
    CHECK(next.range.channel == channel);
    CHECK(next.range.after == after);
    CHECK(next.range.through == through);
    CHECK(next.range.gap == gap);
}

}  // namespace

TEST_CASE("redis_channel_view: transactions are announced in the order they arrived", "[redis][view]") {
    auto view = synced_view();
    CHECK(view.next().what == step_kind::wait);
    view.arrived({rec("a", 1)});
    view.arrived({rec("a", 2), rec("b", 1)});
    view.arrived({});   // nothing to announce: not queued
    view.arrived({rec("b", 2)});
    CHECK(announce_all(view) == "a1 | a2 b1 | b2");
    CHECK(view.next().what == step_kind::wait);

    auto span = view.span("a");
    CHECK(span.first == 1);
    CHECK(span.last == 2);
    CHECK_FALSE(span.trimmed);
    auto tail = view.read_from_memory("a", 0, 10);
    REQUIRE(tail);
    CHECK(names(*tail) == "a1 a2");
    CHECK(names(*view.read_from_memory("a", 1, 10)) == "a2");
    CHECK(names(*view.read_from_memory("a", 0, 1)) == "a1");
    CHECK(view.read_from_memory("a", 2, 10)->empty());   // nothing after the head
    CHECK(view.read_from_memory("unknown", 0, 10)->empty());
}

TEST_CASE("redis_channel_view: an offset seen already is dropped, not announced twice", "[redis][view]") {
    auto view = synced_view();
    view.arrived({rec("a", 1)});
    view.arrived({rec("a", 1)});
    auto first = view.next();
    REQUIRE(first.what == step_kind::announce);
    CHECK(names(first.records) == "a1");
    auto again = view.next();
    REQUIRE(again.what == step_kind::announce);
    CHECK(again.records.empty());
    CHECK(view.span("a").last == 1);
    CHECK(view.read_from_memory("a", 0, 10)->size() == 1);
}

TEST_CASE("redis_channel_view: a gap is read from the stream before anything later is announced",
          "[redis][view]") {
    auto view = synced_view();
    view.arrived({rec("a", 1)});
    CHECK(announce_all(view) == "a1");

    view.arrived({rec("a", 4), rec("b", 1)});   // a2 and a3 were lost
    auto read = view.next();
    check_read(read, "a", 1, 3, true);
    CHECK(view.span("b").last == 0);   // b1 waits behind the gap of its transaction

    // Later announcements wait for the read.
    view.arrived({rec("a", 5)});
    view.arrived({rec("b", 2)});
    CHECK(view.next().what == step_kind::wait);
    CHECK(view.span("a").last == 1);

    CHECK(names(view.filled(read.range, {rec("a", 2), rec("a", 3)})) == "a2 a3");
    CHECK(view.span("a").last == 3);
    CHECK(announce_all(view) == "a4 b1 | a5 | b2");
    CHECK(names(*view.read_from_memory("a", 0, 10)) == "a1 a2 a3 a4 a5");
}

TEST_CASE("redis_channel_view: a gap inside one transaction, and on a channel never seen", "[redis][view]") {
    auto view = synced_view();
    view.arrived({rec("a", 1), rec("a", 3)});
    auto read = view.next();
    check_read(read, "a", 0, 2, true);
    CHECK(view.filled(read.range, {rec("a", 1), rec("a", 2)}).size() == 2);
    CHECK(announce_all(view) == "a3");   // a1 of the transaction was read already

    view.arrived({rec("n", 7)});
    check_read(view.next(), "n", 0, 6, true);
}

TEST_CASE("redis_channel_view: a read answered in pages asks for the rest", "[redis][view]") {
    auto view = synced_view();
    view.arrived({rec("a", 5)});
    auto read = view.next();
    check_read(read, "a", 0, 4, true);

    CHECK(names(view.filled(read.range, {rec("a", 1), rec("a", 2)})) == "a1 a2");
    auto rest = view.next();
    check_read(rest, "a", 2, 4, false);
    CHECK(names(view.filled(rest.range, {rec("a", 3), rec("a", 4)})) == "a3 a4");
    CHECK(announce_all(view) == "a5");
}

TEST_CASE("redis_channel_view: a range trimmed before it was read is skipped; the head jumps",
          "[redis][view]") {
    auto view = synced_view();
    view.arrived({rec("a", 1)});
    CHECK(announce_all(view) == "a1");

    SECTION("partly gone") {
        view.arrived({rec("a", 5)});
        auto read = view.next();
        check_read(read, "a", 1, 4, true);
        CHECK(names(view.filled(read.range, {rec("a", 4)})) == "a4");   // a2, a3 were trimmed
        auto span = view.span("a");
        CHECK(span.first == 4);
        CHECK(span.last == 4);
        CHECK(span.trimmed);
        CHECK(names(*view.read_from_memory("a", 3, 10)) == "a4");
        CHECK_FALSE(view.read_in_memory("a", 0));   // a1 left the tail with the jump
        CHECK_FALSE(view.read_from_memory("a", 0, 10));
        CHECK(announce_all(view) == "a5");
    }
    SECTION("all gone") {
        view.arrived({rec("a", 5)});
        auto read = view.next();
        CHECK(view.filled(read.range, {}).empty());
        auto span = view.span("a");
        CHECK(span.first == 0);   // nothing held
        CHECK(span.last == 4);
        CHECK(span.trimmed);
        CHECK(announce_all(view) == "a5");
        CHECK(view.span("a").first == 5);
    }
}

TEST_CASE("redis_channel_view: the first sync takes the heads as they are; a reconnect reads what it missed",
          "[redis][view]") {
    redis_channel_view view({}, 1000);
    CHECK_FALSE(view.set_epoch("e1"));
    // Subscribed before the heads were read: a transaction may arrive before the sync.
    view.arrived({rec("a", 11)});
    auto first = view.sync({{"a", 10}, {"b", 3}}, {{"a", 4}});
    CHECK_FALSE(first.went_back);
    CHECK_FALSE(first.history_lost);
    auto span = view.span("a");
    CHECK(span.first == 5);
    CHECK(span.last == 10);
    CHECK(span.trimmed);
    CHECK(view.span("b").last == 3);
    CHECK(announce_all(view) == "a11");   // no replay owed at start
    CHECK(view.next().what == step_kind::wait);

    SECTION("the link is lost: what arrived and the read in flight are dropped") {
        view.arrived({rec("a", 13)});
        auto read = view.next();
        check_read(read, "a", 11, 12, true);
        view.reset();
        CHECK(view.next().what == step_kind::wait);   // a13 was dropped with the link

        // Reconnected: a reached 14 meanwhile, b did not move, c is new.
        view.arrived({rec("a", 15)});
        auto again = view.sync({{"a", 14}, {"b", 3}, {"c", 2}}, {{"a", 4}});
        CHECK_FALSE(again.went_back);
        CHECK_FALSE(again.history_lost);
        std::vector<std::string> reads;
        for (auto next = view.next(); next.what == step_kind::read; next = view.next()) {
            reads.push_back(next.range.channel + " " + std::to_string(next.range.after) + ".." +
                            std::to_string(next.range.through));
            CHECK_FALSE(next.range.gap);
            std::vector<event_record> entries;
            for (auto o = next.range.after + 1; o <= next.range.through; ++o)
                entries.push_back(rec(next.range.channel, o));
            CHECK(view.filled(next.range, entries).size() == entries.size());
        }
        std::sort(reads.begin(), reads.end());
        CHECK(reads == std::vector<std::string>{"a 11..14", "c 0..2"});
        CHECK(view.span("a").last == 15);   // a15 was announced after the reads
        CHECK(view.span("c").last == 2);
    }
    SECTION("a message published while the heads were read arrives twice: announced once") {
        view.reset();
        view.arrived({rec("a", 12)});
        CHECK_FALSE(view.sync({{"a", 12}, {"b", 3}}, {}).went_back);
        auto read = view.next();
        check_read(read, "a", 11, 12, false);
        CHECK(names(view.filled(read.range, {rec("a", 12)})) == "a12");
        auto dup = view.next();
        REQUIRE(dup.what == step_kind::announce);
        CHECK(dup.records.empty());
    }
    SECTION("heads that went back (an older snapshot) change nothing") {
        view.reset();
        auto back = view.sync({{"a", 5}, {"b", 3}}, {});
        CHECK(back.went_back);
        CHECK(view.span("a").last == 11);
        CHECK(view.next().what == step_kind::wait);
        // A channel this node knows but Redis does not have went back too.
        CHECK(view.sync({{"b", 3}}, {}).went_back);
    }
}

TEST_CASE("redis_channel_view: a new epoch forgets every channel and reports the loss once",
          "[redis][view]") {
    auto view = synced_view();
    view.arrived({rec("a", 1), rec("b", 1)});
    CHECK(announce_all(view) == "a1 b1");
    view.reset();
    CHECK_FALSE(view.set_epoch("e1"));   // the same history
    CHECK(view.epoch() == "e1");
    CHECK(view.span("a").last == 1);

    view.reset();
    CHECK(view.set_epoch("e2"));
    CHECK(view.epoch() == "e2");
    CHECK(view.span("a").last == 0);
    CHECK(view.channels_with_prefix("").empty());

    auto lost = view.sync({{"a", 7}}, {});
    CHECK_FALSE(lost.went_back);   // nothing is known of the new history: nothing went back
    CHECK(lost.history_lost);
    CHECK(view.span("a").last == 7);
    CHECK(view.next().what == step_kind::wait);   // everyone resyncs: nothing is read

    view.reset();
    auto after = view.sync({{"a", 9}}, {});
    CHECK_FALSE(after.history_lost);
    check_read(view.next(), "a", 7, 9, false);
}

TEST_CASE("redis_channel_view: the memory tail is bounded by size, count and age", "[redis][view]") {
    SECTION("cache size") {
        auto view = synced_view({}, 2);
        view.arrived({rec("a", 1), rec("a", 2), rec("a", 3)});
        CHECK(announce_all(view) == "a1 a2 a3");
        CHECK_FALSE(view.read_in_memory("a", 0));
        CHECK(view.read_in_memory("a", 1));
        CHECK(view.read_in_memory("a", 3));
        CHECK(view.read_in_memory("unknown", 0));
        CHECK_FALSE(view.read_from_memory("a", 0, 10));
        CHECK(names(*view.read_from_memory("a", 1, 10)) == "a2 a3");
        CHECK_FALSE(view.span("a").trimmed);   // still in Redis
    }
    SECTION("history size (max_events)") {
        auto view = synced_view({.max_events = 2}, 1000);
        view.arrived({rec("a", 1), rec("a", 2), rec("a", 3)});
        CHECK(announce_all(view) == "a1 a2 a3");
        auto span = view.span("a");
        CHECK(span.first == 2);
        CHECK(span.trimmed);
        CHECK(names(*view.read_from_memory("a", 1, 10)) == "a2 a3");
    }
    SECTION("age, by the time the events were stored") {
        auto view = synced_view({.max_age_ms = 100}, 1000);
        view.arrived({rec("a", 1, 0), rec("a", 2, 150), rec("a", 3, 200)});
        CHECK(announce_all(view) == "a1 a2 a3");
        CHECK_FALSE(view.read_in_memory("a", 0));
        CHECK(names(*view.read_from_memory("a", 1, 10)) == "a2 a3");
    }
}

TEST_CASE("redis_channel_view: an age trim in Redis moves the start of the history", "[redis][view]") {
    auto view = synced_view();
    view.arrived({rec("a", 1, 0), rec("a", 2, 0), rec("a", 3, 0), rec("b", 1, 0)});
    CHECK(announce_all(view) == "a1 a2 a3 b1");
    CHECK(view.channels_to_trim() == std::vector<std::string>{"a", "b"});

    view.trimmed("a", 2, 10);
    auto span = view.span("a");
    CHECK(span.first == 3);
    CHECK(span.trimmed);
    CHECK(names(*view.read_from_memory("a", 2, 10)) == "a3");
    CHECK_FALSE(view.read_in_memory("a", 1));

    view.trimmed("b", 5, 10);   // never past the head
    CHECK(view.span("b").first == 0);
    CHECK(view.span("b").last == 1);
    CHECK(view.channels_to_trim() == std::vector<std::string>{"a"});
    view.trimmed("unknown", 3, 10);
    CHECK(view.span("unknown").last == 0);
}

TEST_CASE("redis_channel_view: timestamp positions from the tail when it holds the whole history",
          "[redis][view]") {
    auto view = synced_view({}, 2);
    auto unknown = view.position_in_memory("a", 5);
    REQUIRE(unknown);
    CHECK(unknown->after == 0);
    CHECK(unknown->covered);

    view.arrived({rec("a", 1), rec("a", 2)});   // timestamps 10, 20
    CHECK(announce_all(view) == "a1 a2");
    auto p = view.position_in_memory("a", 15);
    REQUIRE(p);
    CHECK(p->after == 1);
    CHECK(p->covered);

    view.arrived({rec("a", 3)});   // a1 leaves the tail but not Redis: Redis must answer
    CHECK(announce_all(view) == "a3");
    CHECK_FALSE(view.position_in_memory("a", 15));
}

TEST_CASE("redis_channel_view: heads reached, channels by prefix", "[redis][view]") {
    auto view = synced_view();
    view.arrived({rec("xa", 1), rec("xb", 1), rec("y", 1)});
    view.arrived({rec("xa", 2)});
    CHECK_FALSE(view.reached({{"xa", 2}}));
    CHECK(view.reached({}));
    CHECK(announce_all(view) == "xa1 xb1 y1 | xa2");
    CHECK(view.reached({{"xa", 2}, {"y", 1}}));
    CHECK_FALSE(view.reached({{"xa", 3}}));
    CHECK_FALSE(view.reached({{"z", 1}}));
    CHECK(view.channels_with_prefix("x") == std::vector<std::string>{"xa", "xb"});
    CHECK(view.channels_with_prefix("") == std::vector<std::string>{"xa", "xb", "y"});
}
