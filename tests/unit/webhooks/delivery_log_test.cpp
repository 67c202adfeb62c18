// webhooks/delivery_log: the last attempts of a webhook, newest first, bounded.

#include "webhooks/delivery_log.hpp"

#include <catch2/catch.hpp>

using namespace kp::webhooks;

namespace {

delivery_attempt attempt(std::uint64_t offset) {
    delivery_attempt a;
    a.time_ms = static_cast<std::int64_t>(offset) * 1000;
    a.channel = "/buckets/a";
    a.first = offset;
    a.last = offset;
    a.type = "kinto.event";
    a.delivery_id = "msg_x";
    a.status = 200;
    a.duration_ms = 5;
    return a;
}

}  // namespace

TEST_CASE("delivery log keeps the last 50 attempts, newest first", "[webhooks]") {
    delivery_log log;
    CHECK(log.newest_first(10).empty());
    for (std::uint64_t i = 1; i <= 120; ++i)
        log.add(attempt(i));
    CHECK(log.size() == 50);
    auto const all = log.newest_first(1000);
    REQUIRE(all.size() == 50);
    CHECK(all.front().first == 120);
    CHECK(all.back().first == 71);
    for (std::size_t i = 1; i < all.size(); ++i)
        CHECK(all[i - 1].first == all[i].first + 1);
    auto const few = log.newest_first(3);
    REQUIRE(few.size() == 3);
    CHECK(few[2].first == 118);
    CHECK(log.newest_first(0).empty());
}

TEST_CASE("delivery log capacity can be smaller", "[webhooks]") {
    delivery_log log(2);
    log.add(attempt(1));
    log.add(attempt(2));
    log.add(attempt(3));
    auto const all = log.newest_first(10);
    REQUIRE(all.size() == 2);
    CHECK(all[0].first == 3);
    CHECK(all[1].first == 2);
}

TEST_CASE("delivery attempts as JSON", "[webhooks]") {
    auto ok = attempt(7);
    auto const json = ok.to_json();
    CHECK(json.dump() ==
          R"({"time":"1970-01-01T00:00:07.000Z","channel":"/buckets/a","first":7,"last":7,"type":"kinto.event","delivery_id":"msg_x","status":200,"error":null,"duration_ms":5})");
    delivery_attempt failed = attempt(8);
    failed.status = 0;
    failed.error = "connection refused";
    auto const failed_json = failed.to_json();
    CHECK(failed_json["status"].is_null());
    CHECK(failed_json["error"] == "connection refused");
}
