// session::session_core driven without a socket (session_fixture.hpp): requests handled
// strictly in arrival order whatever the time an answer takes, identity and expiry, the
// subscribe checks, and replies. Replay and delivery: subscription_set_test.cpp.

#include "tests/unit/session/session_fixture.hpp"

#include "auth/jwt_verifier.hpp"
#include "session/close_code.hpp"

#include <catch2/catch.hpp>

using namespace kp::session;
using namespace kp::session::testing;

namespace {

std::string const channel_x = "/buckets/b/collections/x";
std::string const channel_y = "/buckets/b/collections/y";

subscriber_identity jwt_identity(std::string sub, std::int64_t expires) {
    subscriber_identity identity;
    identity.jwt = kp::auth::jwt_claims{};
    identity.sub = std::move(sub);
    identity.expires = expires;
    return identity;
}

std::string auth_frame(std::string const& id, std::string const& token) {
    return json{{"type", "auth"}, {"id", id}, {"token", token}}.dump();
}

}  // namespace

TEST_CASE("auth then subscribe sent back to back: the subscribe is judged with the new identity", "[session]") {
    session_rig rig;
    rig.core.receive(auth_frame("1", "token-for-x"));
    rig.core.receive(subscribe("2", channel_x));
    // The key look-up is slow: the subscribe waits, nothing is authorized yet.
    REQUIRE(rig.port.identifications.size() == 1);
    CHECK(rig.port.authorizations.empty());
    CHECK(rig.read().empty());

    rig.port.answer_identification(jwt_identity("alice", rig.port.now + 3600));
    REQUIRE(rig.port.authorizations.size() == 1);
    CHECK(rig.port.authorizations.front().identity.sub == "alice");
    CHECK(rig.port.authorizations.front().channel == channel_x);
    rig.port.answer_authorization(access_decision::allowed);

    auto frames = rig.read();
    REQUIRE(frames.size() == 2);
    CHECK(frames[0]["type"] == "authenticated");
    CHECK(frames[0]["id"] == "1");
    CHECK(frames[0]["sub"] == "alice");
    CHECK(frames[1]["type"] == "subscribed");
    CHECK(frames[1]["id"] == "2");
}

TEST_CASE("a token for X, subscribe X, a token for Y only, subscribe Y at once: subscribed to both", "[session]") {
    session_rig rig;
    rig.core.receive(auth_frame("1", "x"));
    rig.port.answer_identification(jwt_identity("for-x", rig.port.now + 60));
    rig.core.receive(subscribe("2", channel_x));
    rig.port.answer_authorization(access_decision::allowed);
    rig.core.receive(auth_frame("3", "y"));
    rig.core.receive(subscribe("4", channel_y));
    CHECK(rig.port.authorizations.empty());   // Y waits for the second auth
    rig.port.answer_identification(jwt_identity("for-y", rig.port.now + 60));
    REQUIRE(rig.port.authorizations.size() == 1);
    CHECK(rig.port.authorizations.front().identity.sub == "for-y");
    rig.port.answer_authorization(access_decision::allowed);

    std::vector<std::string> order;
    for (auto const& f : rig.read()) order.push_back(f["type"].get<std::string>() + ":" + f["id"].get<std::string>());
    CHECK(order == std::vector<std::string>{"authenticated:1", "subscribed:2", "authenticated:3", "subscribed:4"});
    CHECK(rig.core.subscriptions().contains(channel_x));
    CHECK(rig.core.subscriptions().contains(channel_y));
}

TEST_CASE("a slow authorization holds back every later request, whose replies follow in order", "[session]") {
    session_rig rig;
    rig.core.receive(subscribe("1", channel_x));
    rig.core.receive(json{{"type", "ping"}, {"id", "2"}}.dump());
    rig.core.receive(subscribe("3", channel_y));
    rig.core.receive(json{{"type", "unsubscribe"}, {"id", "4"}, {"channel", channel_x}}.dump());
    REQUIRE(rig.port.authorizations.size() == 1);   // Y is not asked before X is answered
    CHECK(rig.read().empty());                        // not even the pong

    rig.port.answer_authorization(access_decision::forbidden);
    REQUIRE(rig.port.authorizations.size() == 1);
    CHECK(rig.port.authorizations.front().channel == channel_y);
    rig.port.answer_authorization(access_decision::allowed);

    auto frames = rig.read();
    REQUIRE(frames.size() == 4);
    CHECK(frames[0] == json{{"type", "error"}, {"code", "forbidden"},
                            {"message", "these credentials do not allow this channel"}, {"id", "1"}});
    CHECK(frames[1]["type"] == "pong");
    CHECK(frames[2]["type"] == "subscribed");
    CHECK(frames[2]["channel"] == channel_y);
    // X was refused: unsubscribing from it is not_found, and Y is untouched.
    CHECK(frames[3]["code"] == "not_found");
    CHECK(rig.core.subscriptions().contains(channel_y));
}

TEST_CASE("answers given before the call returns keep the order and handle every request", "[session]") {
    session_rig rig;
    rig.port.answer_at_once = access_decision::allowed;
    for (int i = 0; i < 5; ++i) rig.core.receive(subscribe(std::to_string(i), "/buckets/b/collections/c" + std::to_string(i)));
    auto frames = rig.read();
    REQUIRE(frames.size() == 5);
    for (int i = 0; i < 5; ++i) {
        CHECK(frames[i]["type"] == "subscribed");
        CHECK(frames[i]["id"] == std::to_string(i));
    }
}

TEST_CASE("too many requests waiting: the transport stops reading until they are handled", "[session]") {
    session_rig rig(1 << 20, session_settings{100, false, 3});
    rig.core.receive(subscribe("1", channel_x));   // in progress
    rig.core.receive(json{{"type", "ping"}, {"id", "2"}}.dump());
    rig.core.receive(json{{"type", "ping"}, {"id", "3"}}.dump());
    CHECK(rig.core.accepting());
    rig.core.receive(json{{"type", "ping"}, {"id", "4"}}.dump());
    CHECK_FALSE(rig.core.accepting());
    CHECK(rig.port.resumed == 0);
    rig.port.answer_authorization(access_decision::allowed);
    CHECK(rig.core.accepting());
    CHECK(rig.port.resumed == 1);
    CHECK(rig.read().size() == 4);
}

TEST_CASE("a subscribe since a timestamp the memory cannot place waits for the store, and so does the next request",
          "[session]") {
    session_rig rig;
    rig.port.answer_at_once = access_decision::allowed;
    rig.publish("x", "r1", 100);
    rig.publish("x", "r2", 200);
    rig.store.positions_in_memory = false;
    rig.core.receive(subscribe("1", channel_x, json{{"timestamp", 100}}));
    rig.core.receive(json{{"type", "ping"}, {"id", "2"}}.dump());
    REQUIRE(rig.port.locations.size() == 1);
    CHECK(rig.port.locations.front().timestamp == 100);
    CHECK(rig.read().empty());
    auto where = rig.store.memory.position_after(channel_x, 100);
    rig.port.locations.front().done(where);
    auto frames = rig.read();
    REQUIRE(frames.size() == 3);
    CHECK(frames[0]["type"] == "subscribed");
    CHECK(frames[0]["recovered"] == true);
    CHECK(frames[1]["type"] == "event");
    CHECK(frames[1]["offset"] == 2);
    CHECK(frames[2]["type"] == "pong");
}

TEST_CASE("a store that cannot place the timestamp: unavailable, and the connection carries on", "[session]") {
    session_rig rig;
    rig.port.answer_at_once = access_decision::allowed;
    rig.store.positions_in_memory = false;
    rig.core.receive(subscribe("1", channel_x, json{{"timestamp", 5}}));
    rig.port.locations.front().done(std::nullopt);
    auto frames = rig.read();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0]["code"] == "unavailable");
    CHECK_FALSE(rig.core.subscriptions().contains(channel_x));
    CHECK(rig.table.subscriber_count(channel_x) == 0);
    CHECK_FALSE(rig.port.closed_with);
}

TEST_CASE("the subscribe checks that depend on the connection", "[session]") {
    session_rig rig(1 << 20, session_settings{2, false, 64});
    rig.port.answer_at_once = access_decision::allowed;
    rig.core.receive(subscribe("1", channel_x));
    rig.core.receive(subscribe("2", channel_x));
    rig.core.receive(subscribe("3", channel_y));
    rig.core.receive(subscribe("4", "/buckets/b/collections/z"));
    rig.core.receive(json{{"type", "unsubscribe"}, {"id", "5"}, {"channel", "/buckets/b/collections/z"}}.dump());
    rig.core.receive(json{{"type", "unsubscribe"}, {"id", "6"}, {"channel", channel_x}}.dump());
    auto frames = rig.read();
    REQUIRE(frames.size() == 6);
    CHECK(frames[1]["code"] == "bad_request");
    CHECK(frames[1]["message"] == "channel: already subscribed");
    CHECK(frames[3]["code"] == "too_many_subscriptions");
    CHECK(frames[4]["code"] == "not_found");
    CHECK(frames[5] == json{{"type", "unsubscribed"}, {"channel", channel_x}, {"id", "6"}});
    CHECK(rig.table.subscriber_count(channel_x) == 0);
    CHECK(rig.table.subscriber_count(channel_y) == 1);
}

TEST_CASE("refused credentials: unauthorized, the identity unchanged; auth in development mode is refused", "[session]") {
    session_rig rig;
    rig.core.set_identity(jwt_identity("alice", rig.port.now + 60));
    rig.core.receive(auth_frame("1", "bad"));
    rig.port.answer_identification(kp::session::credential_refusal{access_decision::unauthorized, "token expired"});
    rig.core.receive(auth_frame("2", "later"));
    rig.port.answer_identification(access_decision::unavailable);
    auto frames = rig.read();
    REQUIRE(frames.size() == 2);
    CHECK(frames[0]["code"] == "unauthorized");
    CHECK(frames[0]["message"] == "invalid credentials: token expired");   // the reason, never the token
    CHECK(frames[1]["code"] == "unavailable");
    CHECK(rig.core.identity().sub == "alice");

    session_rig open(1 << 20, session_settings{100, true, 64});
    open.core.receive(auth_frame("1", "anything"));
    CHECK(open.port.identifications.empty());
    auto refused = open.read();
    REQUIRE(refused.size() == 1);
    CHECK(refused[0]["message"] == "subscriber authentication is not configured on this server");
}

TEST_CASE("a JWT's expiry closes with 4001 unless a fresh token moved it", "[session]") {
    session_rig rig;
    auto const leeway = kp::auth::jwt_verifier::leeway_s;
    rig.core.set_identity(jwt_identity("alice", 1000));
    REQUIRE(rig.port.expiries.back() == 1000 + leeway);
    rig.core.receive(auth_frame("1", "fresh"));
    rig.port.answer_identification(jwt_identity("alice", 5000));
    REQUIRE(rig.port.expiries.back() == 5000 + leeway);
    rig.core.expired(1000 + leeway);   // the old deadline: stale
    CHECK_FALSE(rig.port.closed_with);
    rig.core.expired(5000 + leeway);
    REQUIRE(rig.port.closed_with);
    CHECK(*rig.port.closed_with == close_code::unauthorized);
    CHECK(rig.port.close_reason == "token expired");
}

TEST_CASE("a frame that is not a JSON object closes with 4000; nothing after it is handled", "[session]") {
    session_rig rig;
    rig.port.answer_at_once = access_decision::allowed;
    rig.core.receive("[1,2]");
    rig.core.receive(subscribe("1", channel_x));
    REQUIRE(rig.port.closed_with);
    CHECK(*rig.port.closed_with == close_code::protocol_violation);
    CHECK(rig.table.subscriber_count(channel_x) == 0);
}

TEST_CASE("replies count against the queue's limit: a client that never reads is closed with 4008", "[session]") {
    session_rig rig(200);
    for (int i = 0; i < 10 && !rig.port.closed_with; ++i) rig.core.receive(json{{"type", "ping"}, {"id", i}}.dump());
    REQUIRE(rig.port.closed_with);
    CHECK(*rig.port.closed_with == close_code::too_slow);
}

TEST_CASE("end() leaves every channel, and answers that come later change nothing", "[session]") {
    session_rig rig;
    rig.port.answer_at_once = access_decision::allowed;
    rig.core.receive(subscribe("1", channel_x));
    rig.port.answer_at_once.reset();
    rig.core.receive(subscribe("2", channel_y));
    REQUIRE(rig.table.subscriber_count(channel_x) == 1);
    rig.core.end();
    CHECK(rig.table.subscriber_count(channel_x) == 0);
    CHECK(rig.port.expiries.back() == std::nullopt);
    rig.port.answer_authorization(access_decision::allowed);   // Y's answer, too late
    CHECK(rig.table.subscriber_count(channel_y) == 0);
    CHECK(rig.core.subscriptions().size() == 0);
}
