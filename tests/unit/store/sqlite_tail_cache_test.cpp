// store::sqlite_tail_cache alone, without a file: what it answers for unknown channels, how a
// tail is cut (by size, by the trimmed offset, by age), and when reads and timestamp positions
// are answered from memory. The same behaviour through the store is in sqlite_store_test.cpp.

#include "store/sqlite_tail_cache.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <unordered_map>
#include <vector>

using kp::store::event_record;
using kp::store::sqlite_tail_cache;
using kp::store::stored_position;

namespace {

constexpr std::int64_t hour_ms = 3'600'000;

// Events `from`..`to` of `channel`, stored at `stored_at`, timestamp 100 * offset.
std::vector<event_record> events(std::string const& channel, std::uint64_t from, std::uint64_t to,
                                 std::int64_t stored_at) {
    std::vector<event_record> out;
    for (auto offset = from; offset <= to; ++offset)
        out.push_back({channel, offset, static_cast<std::int64_t>(100 * offset), stored_at, "{}"});
    return out;
}

std::vector<std::uint64_t> offsets(std::vector<event_record> const& records) {
    std::vector<std::uint64_t> out;
    for (auto const& r : records) out.push_back(r.offset);
    return out;
}

}  // namespace

TEST_CASE("sqlite tail cache: an unknown channel is left to the disk", "[store][sqlite]") {
    sqlite_tail_cache tails(10, hour_ms);
    CHECK_FALSE(tails.position("a"));
    CHECK_FALSE(tails.covers("a", 0));
    CHECK_FALSE(tails.read("a", 0, 10));
    CHECK_FALSE(tails.position_after("a", 0));
    // A trim by age learns nothing of channels it does not know.
    tails.trimmed({{"a", 3}}, 0);
    CHECK_FALSE(tails.position("a"));
}

TEST_CASE("sqlite tail cache: the tail keeps the last cache_size events, contiguous", "[store][sqlite]") {
    sqlite_tail_cache tails(3, hour_ms);
    // A channel that had 10 events before start: the first commit brings 11 and 12.
    tails.committed({{"a", stored_position{12, 0}}}, events("a", 11, 12, 0), 0);
    CHECK(tails.position("a")->last == 12);
    CHECK(*tails.covers("a", 10));
    CHECK_FALSE(*tails.covers("a", 9));
    CHECK_FALSE(tails.read("a", 9, 10));
    CHECK(offsets(*tails.read("a", 10, 10)) == std::vector<std::uint64_t>{11, 12});

    tails.committed({{"a", stored_position{15, 0}}}, events("a", 13, 15, 0), 0);
    CHECK_FALSE(*tails.covers("a", 11));
    CHECK(*tails.covers("a", 12));
    CHECK(offsets(*tails.read("a", 12, 10)) == std::vector<std::uint64_t>{13, 14, 15});
    CHECK(offsets(*tails.read("a", 12, 2)) == std::vector<std::uint64_t>{13, 14});
    CHECK(offsets(*tails.read("a", 14, 10)) == std::vector<std::uint64_t>{15});
    // At or beyond the head: answered, and empty.
    CHECK(*tails.covers("a", 15));
    CHECK(*tails.covers("a", 99));
    CHECK(tails.read("a", 15, 10)->empty());
    CHECK(tails.read("a", 99, 10)->empty());
}

TEST_CASE("sqlite tail cache: a tail of size 0 answers only at the head", "[store][sqlite]") {
    sqlite_tail_cache tails(0, hour_ms);
    tails.committed({{"a", stored_position{2, 0}}}, events("a", 1, 2, 0), 0);
    CHECK_FALSE(*tails.covers("a", 1));
    CHECK_FALSE(tails.read("a", 1, 10));
    CHECK(*tails.covers("a", 2));
    CHECK(tails.read("a", 2, 10)->empty());
}

TEST_CASE("sqlite tail cache: trimmed events leave the tail", "[store][sqlite]") {
    sqlite_tail_cache tails(10, hour_ms);
    tails.committed({{"a", stored_position{5, 0}}, {"b", stored_position{2, 0}}},
                    [] {
                        auto all = events("a", 1, 5, 0);
                        for (auto& e : events("b", 1, 2, 0)) all.push_back(e);
                        return all;
                    }(),
                    0);

    SECTION("by count, at commit") {
        tails.committed({{"a", stored_position{6, 3}}}, events("a", 6, 6, 0), 0);
        CHECK(tails.position("a")->trimmed_through == 3);
        CHECK(offsets(*tails.read("a", 3, 10)) == std::vector<std::uint64_t>{4, 5, 6});
        CHECK_FALSE(*tails.covers("a", 2));
    }
    SECTION("by age: the trimmed offset never goes back, and every tail is cut by age") {
        tails.trimmed({{"a", 2}}, 0);
        CHECK(tails.position("a")->trimmed_through == 2);
        CHECK(offsets(*tails.read("a", 2, 10)) == std::vector<std::uint64_t>{3, 4, 5});
        tails.trimmed({{"a", 1}}, 0);
        CHECK(tails.position("a")->trimmed_through == 2);
        // An hour and a bit later everything stored at 0 is too old, in every channel.
        tails.trimmed({}, hour_ms + 1);
        CHECK_FALSE(tails.read("a", 4, 10));
        CHECK_FALSE(tails.read("b", 0, 10));
        CHECK(tails.read("b", 2, 10)->empty());
    }
}

TEST_CASE("sqlite tail cache: timestamp positions only when the tail is the whole history", "[store][sqlite]") {
    sqlite_tail_cache tails(3, hour_ms);
    tails.committed({{"a", stored_position{3, 0}}}, events("a", 1, 3, 0), 0);
    auto p = tails.position_after("a", 150);   // timestamps 100, 200, 300
    REQUIRE(p);
    CHECK(p->after == 1);
    CHECK(p->covered);

    // Offset 1 leaves the tail but not the history: the disk must answer.
    tails.committed({{"a", stored_position{4, 0}}}, events("a", 4, 4, 0), 0);
    CHECK_FALSE(tails.position_after("a", 150));

    // Once offset 1 is trimmed from the history too, the tail is whole again.
    tails.trimmed({{"a", 1}}, 0);
    p = tails.position_after("a", 50);
    REQUIRE(p);
    CHECK(p->after == 1);
    CHECK_FALSE(p->covered);
}
