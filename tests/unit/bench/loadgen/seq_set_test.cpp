// bench/loadgen seq_set and sequence_tracker: received numbers, duplicates, reordering, loss
// split into holes and the missing tail.

#include "bench/loadgen/seq_set.hpp"
#include "bench/loadgen/sequence_tracker.hpp"

#include <catch2/catch.hpp>

using kp::loadgen::seq_set;
using kp::loadgen::sequence_tracker;

TEST_CASE("a seq_set holds 1..capacity and refuses the rest", "[loadgen]") {
    seq_set s;
    s.reset(130);
    CHECK(s.insert(1));
    CHECK(s.insert(64));
    CHECK(s.insert(130));
    CHECK_FALSE(s.insert(64));   // already there
    CHECK_FALSE(s.insert(0));
    CHECK_FALSE(s.insert(131));
    CHECK(s.size() == 3);
    CHECK(s.contains(130));
    CHECK_FALSE(s.contains(2));
}

TEST_CASE("loss is what was accepted and not received: holes below the highest received, then the tail",
          "[loadgen]") {
    seq_set accepted;
    accepted.reset(200);
    for (std::uint64_t i = 1; i <= 200; ++i)
        if (i != 100) accepted.insert(i);   // 100 was refused by the server: not expected
    sequence_tracker t;
    t.reset(200);
    for (std::uint64_t i = 1; i <= 150; ++i)
        if (i != 10 && i != 70 && i != 100) t.record(i);
    auto const miss = t.missing_from(accepted);
    CHECK(miss.below == 2);    // 10 and 70
    CHECK(miss.above == 50);   // 151..200
    CHECK(t.distinct() == 147);
}

TEST_CASE("duplicates and reordering are counted, not taken for loss", "[loadgen]") {
    sequence_tracker t;
    t.reset(10);
    using o = sequence_tracker::outcome;
    CHECK(t.record(1) == o::fresh);
    CHECK(t.record(3) == o::fresh);
    CHECK(t.record(2) == o::reordered);
    CHECK(t.record(3) == o::duplicate);
    CHECK(t.record(11) == o::out_of_range);
    CHECK(t.duplicates() == 1);
    CHECK(t.reordered() == 1);
    CHECK(t.out_of_range() == 1);
    CHECK(t.highest() == 3);
    seq_set accepted;
    accepted.reset(10);
    for (std::uint64_t i = 1; i <= 3; ++i) accepted.insert(i);
    auto const miss = t.missing_from(accepted);
    CHECK(miss.below + miss.above == 0);
}
