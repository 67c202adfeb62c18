// session::session_core asking again about its subscriptions (PROTOCOL.md section 3,
// "Authorization that ends"), driven without a socket (session_fixture.hpp): what each answer
// of the port's recheck does to the connection.

#include "tests/unit/session/session_fixture.hpp"

#include "session/close_code.hpp"

#include <catch2/catch.hpp>

using namespace kp::session;
using namespace kp::session::testing;

namespace {

std::string const channel_x = "/buckets/b/collections/x";
std::string const channel_y = "/buckets/b/collections/y";

session_settings rechecking(std::int64_t period_ms) {
    session_settings settings;
    settings.recheck_ms = period_ms;
    return settings;
}

subscriber_identity kinto_identity(std::string credential) {
    subscriber_identity identity;
    identity.kinto_credential = std::move(credential);
    return identity;
}

// A rig whose connection holds Kinto credentials and is subscribed to x and y.
void subscribe_both(session_rig& rig) {
    rig.core.set_identity(kinto_identity("Basic YWxpY2U6cw=="));
    rig.port.answer_at_once = access_decision::allowed;
    rig.core.receive(subscribe("1", channel_x));
    rig.core.receive(subscribe("2", channel_y));
    REQUIRE(rig.read().size() == 2);
}

// The pending recheck of `channel` answered `d` (they may be asked in any order).
void answer_recheck_of(session_rig& rig, std::string const& channel, access_decision d) {
    for (auto it = rig.port.rechecks.begin(); it != rig.port.rechecks.end(); ++it) {
        if (it->channel != channel) continue;
        auto done = std::move(it->done);
        rig.port.rechecks.erase(it);
        return done(d);
    }
    FAIL("no recheck of " << channel);
}

std::vector<std::string> event_channels(std::vector<json> const& frames) {
    std::vector<std::string> out;
    for (auto const& f : frames)
        if (f["type"] == "event") out.push_back(f["channel"].get<std::string>());
    return out;
}

}  // namespace

TEST_CASE("nothing is asked again before the period, everything at it, with the connection's credentials",
          "[recheck][session]") {
    session_rig rig(1 << 20, rechecking(1000));
    subscribe_both(rig);
    rig.core.recheck_due(999, 0);
    CHECK(rig.port.rechecks.empty());
    rig.core.recheck_due(1000, 0);
    REQUIRE(rig.port.rechecks.size() == 2);
    CHECK(rig.port.rechecks[0].identity.kinto_credential == "Basic YWxpY2U6cw==");
    rig.core.recheck_due(1500, 0);
    CHECK(rig.port.rechecks.size() == 2);   // one question in flight per channel
}

TEST_CASE("a channel no longer allowed: unsubscribed/forbidden, none of its events after, the other carries on",
          "[recheck][session]") {
    session_rig rig(1 << 20, rechecking(1000));
    subscribe_both(rig);
    rig.core.recheck_due(1000, 0);
    answer_recheck_of(rig, channel_x, access_decision::forbidden);
    answer_recheck_of(rig, channel_y, access_decision::allowed);

    auto frames = rig.read();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] == json{{"type", "unsubscribed"}, {"channel", channel_x}, {"reason", "forbidden"}});
    CHECK_FALSE(rig.core.subscriptions().contains(channel_x));
    CHECK(rig.table.channel_count() == 1);   // left the shard's table too

    rig.publish("x", "r1", 10);
    rig.publish("y", "r2", 11);
    CHECK(event_channels(rig.read()) == std::vector<std::string>{channel_y});
    CHECK_FALSE(rig.port.closed_with.has_value());

    // y is asked again a period after its last question; x never again.
    rig.core.recheck_due(2000, 0);
    REQUIRE(rig.port.rechecks.size() == 1);
    CHECK(rig.port.rechecks[0].channel == channel_y);
}

TEST_CASE("credentials Kinto no longer accepts close the connection with 4001", "[recheck][session]") {
    session_rig rig(1 << 20, rechecking(1000));
    subscribe_both(rig);
    rig.core.recheck_due(1000, 0);
    answer_recheck_of(rig, channel_x, access_decision::unauthorized);
    REQUIRE(rig.port.closed_with == close_code::unauthorized);
}

TEST_CASE("Kinto not answering changes nothing, period after period", "[recheck][session]") {
    session_rig rig(1 << 20, rechecking(1000));
    subscribe_both(rig);
    for (std::int64_t t = 1000; t <= 5000; t += 1000) {
        rig.core.recheck_due(t, 0);
        REQUIRE(rig.port.rechecks.size() == 2);
        answer_recheck_of(rig, channel_x, access_decision::unavailable);
        answer_recheck_of(rig, channel_y, access_decision::unavailable);
    }
    CHECK(rig.read().empty());
    rig.publish("x", "r1", 10);
    CHECK(event_channels(rig.read()) == std::vector<std::string>{channel_x});
    CHECK_FALSE(rig.port.closed_with.has_value());
}

TEST_CASE("an answer for a channel unsubscribed meanwhile changes nothing", "[recheck][session]") {
    session_rig rig(1 << 20, rechecking(1000));
    subscribe_both(rig);
    rig.core.recheck_due(1000, 0);
    rig.core.receive(json{{"type", "unsubscribe"}, {"id", "3"}, {"channel", channel_x}}.dump());
    rig.core.receive(subscribe("4", channel_x));   // subscribed again at once
    REQUIRE(rig.read().size() == 2);
    answer_recheck_of(rig, channel_x, access_decision::forbidden);
    CHECK(rig.read().empty());
    CHECK(rig.core.subscriptions().contains(channel_x));
}

TEST_CASE("an answer about credentials replaced meanwhile is asked again with the new ones", "[recheck][session]") {
    session_rig rig(1 << 20, rechecking(1000));
    subscribe_both(rig);
    rig.core.recheck_due(1000, 0);
    rig.core.receive(json{{"type", "auth"}, {"id", "5"}, {"token", "Basic Ym9iOnM="}}.dump());
    rig.port.answer_identification(kinto_identity("Basic Ym9iOnM="));
    answer_recheck_of(rig, channel_x, access_decision::unauthorized);   // about the old credentials
    CHECK_FALSE(rig.port.closed_with.has_value());
    rig.core.recheck_due(1100, 0);
    REQUIRE(rig.port.rechecks.size() == 2);   // y still in flight, x asked again
    CHECK(rig.port.rechecks.back().channel == channel_x);
    CHECK(rig.port.rechecks.back().identity.kinto_credential == "Basic Ym9iOnM=");
}

TEST_CASE("without a recheck period nothing is ever asked again", "[recheck][session]") {
    session_rig rig;
    subscribe_both(rig);
    rig.core.recheck_due(1'000'000'000, 0);
    CHECK(rig.port.rechecks.empty());
}

TEST_CASE("an ended connection asks nothing and ignores late answers", "[recheck][session]") {
    session_rig rig(1 << 20, rechecking(1000));
    subscribe_both(rig);
    rig.core.recheck_due(1000, 0);
    rig.core.end();
    answer_recheck_of(rig, channel_x, access_decision::unauthorized);
    CHECK_FALSE(rig.port.closed_with.has_value());
    rig.core.recheck_due(5000, 0);
    CHECK(rig.port.rechecks.size() == 1);   // only y's old question, never answered
}
