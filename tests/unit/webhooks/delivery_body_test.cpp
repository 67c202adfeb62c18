// webhooks/delivery_body: the bodies POSTed to webhooks, built around the events' frames.

#include "webhooks/delivery_body.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string_view>
#include <vector>

using namespace kp::webhooks;

TEST_CASE("iso8601_utc writes UTC with milliseconds", "[webhooks]") {
    CHECK(iso8601_utc(0) == "1970-01-01T00:00:00.000Z");
    CHECK(iso8601_utc(1796600511123) == "2026-12-06T23:41:51.123Z");
    CHECK(iso8601_utc(951782400000) == "2000-02-29T00:00:00.000Z");    // leap day
    CHECK(iso8601_utc(4102444799999) == "2099-12-31T23:59:59.999Z");
    CHECK(iso8601_utc(-1) == "1969-12-31T23:59:59.999Z");              // floors, not truncates
}

TEST_CASE("event_body wraps the frame as it is", "[webhooks]") {
    std::string_view const frame = R"({"channel":"/buckets/a","offset":7,"data":{"x":1.50}})";
    auto const body = event_body(frame, 1796600511123);
    CHECK(body == std::string(R"({"type":"kinto.event","timestamp":"2026-12-06T23:41:51.123Z","data":)") +
                      std::string(frame) + "}");
    auto const parsed = nlohmann::json::parse(body);
    CHECK(parsed["data"]["offset"] == 7);
}

TEST_CASE("batch_body lists the frames in order", "[webhooks]") {
    std::vector<std::string_view> const frames{R"({"offset":1})", R"({"offset":2})", R"({"offset":3})"};
    auto const body = batch_body(frames, 0);
    CHECK(body == R"({"type":"kinto.events","timestamp":"1970-01-01T00:00:00.000Z","data":[{"offset":1},{"offset":2},{"offset":3}]})");
    auto const parsed = nlohmann::json::parse(body);
    REQUIRE(parsed["data"].size() == 3);
    CHECK(parsed["data"][2]["offset"] == 3);
    std::vector<std::string_view> const one{R"({"offset":9})"};
    CHECK(nlohmann::json::parse(batch_body(one, 0))["data"].size() == 1);
}

TEST_CASE("resync_body names the channel and the last acknowledged timestamp", "[webhooks]") {
    auto const body = resync_body("/buckets/main/collections/a", 1700000000123, 0);
    CHECK(body == R"({"type":"kinto.resync","timestamp":"1970-01-01T00:00:00.000Z","data":{"channel":"/buckets/main/collections/a","timestamp":1700000000123}})");
    // Text that needs escaping is escaped (channel names never do, but the body stays JSON).
    auto const odd = nlohmann::json::parse(resync_body("a\"b\\c", 0, 0));
    CHECK(odd["data"]["channel"] == "a\"b\\c");
    CHECK(odd["data"]["timestamp"] == 0);
}
