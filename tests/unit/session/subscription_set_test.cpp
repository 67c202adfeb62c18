// session::subscription_set through session_core (session_fixture.hpp): replay from an offset
// with live events racing it, the pace of a replay, pages read off the thread, and the live
// offset check. "No hole, no duplicate" is checked on every sequence: the offsets a client
// reads for a channel are exactly 1..N, in order.

#include "tests/unit/session/session_fixture.hpp"

#include "session/close_code.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace kp::session;
using namespace kp::session::testing;

namespace {

std::string const channel_x = "/buckets/b/collections/x";

// The offsets of channel_x's events among `frames`, in order.
std::vector<std::uint64_t> offsets(std::vector<json> const& frames) {
    std::vector<std::uint64_t> out;
    for (auto const& f : frames)
        if (f["type"] == "event" && f["channel"] == channel_x) out.push_back(f["offset"].get<std::uint64_t>());
    return out;
}

std::vector<std::uint64_t> from_to(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> v;
    for (auto o = first; o <= last; ++o) v.push_back(o);
    return v;
}

json since(session_rig& rig, std::uint64_t offset) {
    return json{{"epoch", rig.store.epoch()}, {"offset", offset}};
}

}  // namespace

TEST_CASE("resume from an offset: the missed events, then live ones, each once", "[session]") {
    session_rig rig;
    rig.port.answer_at_once = access_decision::allowed;
    for (int i = 1; i <= 5; ++i) rig.publish("x", "r" + std::to_string(i), 100 * i);
    rig.core.receive(subscribe("1", channel_x, since(rig, 2)));
    rig.publish("x", "r6", 600);
    auto frames = rig.read();
    REQUIRE(frames.front()["type"] == "subscribed");
    CHECK(frames.front()["offset"] == 5);
    CHECK(frames.front()["recovered"] == true);
    CHECK(offsets(frames) == from_to(3, 6));
    rig.publish("x", "r7", 700);
    CHECK(offsets(rig.read()) == std::vector<std::uint64_t>{7});
}

TEST_CASE("a long replay goes at the reader's pace, with live events arriving between reads", "[session]") {
    // A small queue: each pump queues a few frames, so live events land while the replay runs.
    session_rig rig(2000);
    rig.port.answer_at_once = access_decision::allowed;
    for (int i = 1; i <= 300; ++i) rig.publish("x", "r" + std::to_string(i), i);
    rig.core.receive(subscribe("1", channel_x, since(rig, 0)));
    std::vector<json> frames;
    std::mt19937 random(7);
    int next = 301;
    while (!rig.queue.empty()) {
        // The client reads one write's worth, and sometimes an event is published meanwhile.
        rig.queue.start_write(1 + random() % 4, [&](std::string const& f) { frames.push_back(json::parse(f)); });
        CHECK(rig.queue.bytes() <= rig.queue.limit());   // never near the 4008 limit
        rig.queue.written();
        if (random() % 3 == 0 && next <= 400) rig.publish("x", "r" + std::to_string(next), next), ++next;
        rig.core.written();
    }
    for (; next <= 400; ++next) {   // live only now, read as they come
        rig.publish("x", "r" + std::to_string(next), next);
        for (auto& f : rig.read()) frames.push_back(f);
    }
    CHECK_FALSE(rig.port.closed_with);
    CHECK(offsets(frames) == from_to(1, 400));
    CHECK_FALSE(rig.core.subscriptions().replaying(channel_x));
}

TEST_CASE("pages the memory does not hold are read off the thread; a stale page is dropped", "[session]") {
    session_rig rig;
    rig.port.answer_at_once = access_decision::allowed;
    for (int i = 1; i <= 100; ++i) rig.publish("x", "r" + std::to_string(i), i);
    rig.store.pages_in_memory = false;
    rig.core.receive(subscribe("1", channel_x, since(rig, 10)));
    REQUIRE(rig.port.pages.size() == 1);
    CHECK(rig.port.pages.front().after == 10);
    rig.publish("x", "r101", 101);   // live while loading: the replay will read it
    std::vector<json> frames = rig.read();
    while (!rig.port.pages.empty()) {
        auto request = std::move(rig.port.pages.front());
        rig.port.pages.pop_front();
        if (request.after >= 50) rig.store.pages_in_memory = true;   // the rest is in memory
        request.done(rig.hub.read(request.channel, request.after, subscription_set::replay_page), false);
        for (auto& f : rig.read()) frames.push_back(f);
    }
    CHECK(offsets(frames) == from_to(11, 101));
    CHECK_FALSE(rig.core.subscriptions().replaying(channel_x));

    // Unsubscribed while a page loads: the page that comes back is ignored.
    rig.store.pages_in_memory = false;
    rig.core.receive(json{{"type", "unsubscribe"}, {"id", "2"}, {"channel", channel_x}}.dump());
    rig.core.receive(subscribe("3", channel_x, since(rig, 0)));
    rig.core.receive(json{{"type", "unsubscribe"}, {"id", "4"}, {"channel", channel_x}}.dump());
    REQUIRE(rig.port.pages.size() == 1);
    rig.port.pages.front().done(rig.hub.read(channel_x, 0, 64), false);
    CHECK(offsets(rig.read()).empty());
}

TEST_CASE("a page that does not follow on, or an empty one, closes with 4008; a failed read with 1011", "[session]") {
    for (int kind = 0; kind < 3; ++kind) {
        session_rig rig;
        rig.port.answer_at_once = access_decision::allowed;
        for (int i = 1; i <= 10; ++i) rig.publish("x", "r" + std::to_string(i), i);
        rig.store.pages_in_memory = false;
        rig.core.receive(subscribe("1", channel_x, since(rig, 2)));
        REQUIRE(rig.port.pages.size() == 1);
        auto& request = rig.port.pages.front();
        if (kind == 0) request.done(rig.hub.read(channel_x, 5, 64), false);   // trimmed past the client
        if (kind == 1) request.done({}, false);
        if (kind == 2) request.done({}, true);
        REQUIRE(rig.port.closed_with);
        CHECK(*rig.port.closed_with == (kind == 2 ? close_code::internal_error : close_code::too_slow));
    }
}

TEST_CASE("a new transaction that finds the queue over its limit closes with 4008, judged once per transaction",
          "[session]") {
    session_rig rig(600);
    rig.port.answer_at_once = access_decision::allowed;
    rig.core.receive(subscribe("1", channel_x));
    rig.read();
    // The client stops reading: events pile up past the limit, then the next transaction.
    for (int i = 1; i <= 20 && !rig.port.closed_with; ++i) rig.publish("x", "r" + std::to_string(i), i);
    REQUIRE(rig.port.closed_with);
    CHECK(*rig.port.closed_with == close_code::too_slow);
    CHECK(rig.port.close_reason == "send queue over 600 bytes");
}

TEST_CASE("live events of channels not subscribed, or already sent, are not queued", "[session]") {
    session_rig rig;
    rig.port.answer_at_once = access_decision::allowed;
    rig.core.receive(subscribe("1", channel_x));
    rig.read();
    rig.publish("y", "r1", 1);
    rig.publish("x", "r1", 2);
    auto const& bucket_frames = rig.read();
    CHECK(offsets(bucket_frames) == std::vector<std::uint64_t>{1});
    // The same message again (a store announcing twice): dropped by offset.
    auto again = rig.hub.read(channel_x, 0, 1);
    REQUIRE(again.size() == 1);
    rig.core.deliver(again.front(), 99);
    CHECK(rig.read().empty());
}
