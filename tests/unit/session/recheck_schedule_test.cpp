// session::recheck_schedule: when a granted subscription is asked about again, and what each
// answer of Kinto does to it (PROTOCOL.md section 3, "Authorization that ends").

#include "session/recheck_schedule.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::session::access_decision;
using kp::session::recheck_schedule;
using verdict = recheck_schedule::verdict;

namespace {

std::string const x = "/buckets/b/collections/x";
std::string const y = "/buckets/b/collections/y";

}  // namespace

TEST_CASE("a granted channel is due one period after its grant, not before", "[recheck]") {
    recheck_schedule s(60'000);
    s.granted(x, 1'000);
    CHECK(s.due(60'999, 0).empty());
    auto q = s.due(61'000, 0);
    REQUIRE(q.size() == 1);
    CHECK(q[0].channel == x);
    CHECK(q[0].asked_ms == 61'000);
}

TEST_CASE("the lead asks what falls due before the caller's next look", "[recheck]") {
    recheck_schedule s(10'000);
    s.granted(x, 0);
    CHECK(s.due(7'000, 2'000).empty());
    CHECK(s.due(8'000, 2'000).size() == 1);
}

TEST_CASE("one question in flight per channel", "[recheck]") {
    recheck_schedule s(1'000);
    s.granted(x, 0);
    REQUIRE(s.due(1'000, 0).size() == 1);
    CHECK(s.due(5'000, 0).empty());   // Kinto is slow: no second question meanwhile
}

TEST_CASE("allowed: kept, and asked again a period after the question was asked", "[recheck]") {
    recheck_schedule s(1'000);
    s.granted(x, 0);
    auto q = s.due(1'000, 0);
    REQUIRE(q.size() == 1);
    CHECK(s.answered(q[0], access_decision::allowed) == verdict::keep);
    CHECK(s.contains(x));
    CHECK(s.due(1'999, 0).empty());
    CHECK(s.due(2'000, 0).size() == 1);
}

TEST_CASE("forbidden ends the channel, the others carry on", "[recheck]") {
    recheck_schedule s(1'000);
    s.granted(x, 0);
    s.granted(y, 0);
    auto q = s.due(1'000, 0);
    REQUIRE(q.size() == 2);
    auto const& qx = q[0].channel == x ? q[0] : q[1];
    auto const& qy = q[0].channel == x ? q[1] : q[0];
    CHECK(s.answered(qx, access_decision::forbidden) == verdict::end_channel);
    CHECK(s.answered(qy, access_decision::allowed) == verdict::keep);
    CHECK_FALSE(s.contains(x));
    CHECK(s.contains(y));
    auto later = s.due(2'000, 0);
    REQUIRE(later.size() == 1);
    CHECK(later[0].channel == y);
}

TEST_CASE("unauthorized closes the connection", "[recheck]") {
    recheck_schedule s(1'000);
    s.granted(x, 0);
    auto q = s.due(1'000, 0);
    CHECK(s.answered(q.at(0), access_decision::unauthorized) == verdict::close_connection);
}

TEST_CASE("Kinto not answering changes nothing: asked again a period later, then its answer counts", "[recheck]") {
    recheck_schedule s(1'000);
    s.granted(x, 0);
    for (std::int64_t t = 1'000; t <= 5'000; t += 1'000) {
        auto q = s.due(t, 0);
        REQUIRE(q.size() == 1);
        CHECK(s.answered(q[0], access_decision::unavailable) == verdict::keep);
        CHECK(s.contains(x));
    }
    auto q = s.due(6'000, 0);
    CHECK(s.answered(q.at(0), access_decision::forbidden) == verdict::end_channel);
}

TEST_CASE("an answer about a subscription forgotten meanwhile is stale, even once subscribed again", "[recheck]") {
    recheck_schedule s(1'000);
    s.granted(x, 0);
    auto q = s.due(1'000, 0);
    s.forget(x);
    CHECK(s.answered(q.at(0), access_decision::forbidden) == verdict::stale);
    s.granted(x, 1'500);
    CHECK(s.answered(q.at(0), access_decision::forbidden) == verdict::stale);
    CHECK(s.contains(x));
    CHECK(s.due(2'000, 0).empty());   // the new subscription's own period
    CHECK(s.due(2'500, 0).size() == 1);
}

TEST_CASE("reask: the question goes again at the next look", "[recheck]") {
    recheck_schedule s(60'000);
    s.granted(x, 0);
    auto q = s.due(60'000, 0);
    s.reask(q.at(0));
    CHECK(s.due(60'100, 0).size() == 1);
}

TEST_CASE("period 0 never asks", "[recheck]") {
    recheck_schedule s(0);
    s.granted(x, 0);
    CHECK_FALSE(s.enabled());
    CHECK(s.size() == 0);
    CHECK(s.due(1'000'000'000, 0).empty());
}
