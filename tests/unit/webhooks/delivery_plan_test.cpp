#include "webhooks/delivery_plan.hpp"

#include <catch2/catch.hpp>

using kp::webhooks::cursor_position;
using kp::webhooks::delivery_plan;
using kp::webhooks::delivery_step;
using kp::webhooks::history_view;
using kind = delivery_step::kind;

TEST_CASE("A webhook at the last offset has nothing to send", "[webhooks]") {
    auto step = delivery_plan::next({"e", 7, 70}, {"e", 1, 7}, 10);
    CHECK(step.what == kind::idle);
    CHECK(delivery_plan::next({"e", 0, 0}, {"e", 0, 0}, 1).what == kind::idle);   // a channel never published to
}

TEST_CASE("The next events are consecutive, from the position, at most max_batch", "[webhooks]") {
    auto one = delivery_plan::next({"e", 3, 30}, {"e", 1, 9}, 1);
    CHECK(one.what == kind::events);
    CHECK(one.first == 4);
    CHECK(one.last == 4);
    CHECK(one.after == cursor_position{"e", 4, 30});

    auto batch = delivery_plan::next({"e", 3, 30}, {"e", 1, 9}, 100);
    CHECK(batch.first == 4);
    CHECK(batch.last == 9);

    auto cut = delivery_plan::next({"e", 3, 30}, {"e", 4, 9}, 4);   // the first kept is the next one: no hole
    CHECK(cut.what == kind::events);
    CHECK(cut.first == 4);
    CHECK(cut.last == 7);
    CHECK(delivery_plan::next({"e", 0, 0}, {"e", 1, 2}, 0).last == 1);   // max_batch 0 counts as 1
}

TEST_CASE("A webhook behind the history gets a resync, then goes on from the oldest kept", "[webhooks]") {
    auto step = delivery_plan::next({"e", 3, 30}, {"e", 6, 9}, 10);
    CHECK(step.what == kind::resync);
    CHECK(step.after == cursor_position{"e", 5, 30});   // keeps the timestamp it had acknowledged

    // Everything it missed left the history, nothing kept: on from the next event published.
    auto empty = delivery_plan::next({"e", 3, 30}, {"e", 0, 9}, 10);
    CHECK(empty.what == kind::resync);
    CHECK(empty.after == cursor_position{"e", 9, 30});
}

TEST_CASE("A position of another epoch, or beyond the last offset, resyncs", "[webhooks]") {
    auto other = delivery_plan::next({"old", 3, 30}, {"new", 1, 2}, 10);
    CHECK(other.what == kind::resync);
    CHECK(other.after == cursor_position{"new", 0, 30});

    auto empty_new = delivery_plan::next({"old", 3, 30}, {"new", 0, 0}, 10);
    CHECK(empty_new.what == kind::resync);
    CHECK(empty_new.after == cursor_position{"new", 0, 30});

    auto ahead = delivery_plan::next({"e", 12, 30}, {"e", 1, 9}, 10);
    CHECK(ahead.what == kind::resync);
    CHECK(ahead.after == cursor_position{"e", 0, 30});
}
