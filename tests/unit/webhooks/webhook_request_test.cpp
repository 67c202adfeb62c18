// webhooks/webhook_request: the bodies of creation, PATCH and replay, each refusal naming its field.

#include "webhooks/webhook_request.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace kp::webhooks;
using nlohmann::json;

namespace {

request_limits const limits{};

// The field and message of a refusal; fails the test when the body was accepted.
template <typename T>
request_error refusal(std::variant<T, request_error> const& result) {
    REQUIRE(std::holds_alternative<request_error>(result));
    return std::get<request_error>(result);
}

json creation() {
    return json{{"url", "https://hooks.example.com/k"}, {"channels", {"/buckets/a", "/buckets/b/collections/c"}}};
}

std::string creation_field(json const& body) {
    return refusal(webhook_request::parse_creation(body, limits)).field;
}

}  // namespace

TEST_CASE("creation: the smallest body and its defaults", "[webhooks]") {
    auto const result = webhook_request::parse_creation(creation(), limits);
    REQUIRE(std::holds_alternative<creation_request>(result));
    auto const& r = std::get<creation_request>(result);
    CHECK(r.url == "https://hooks.example.com/k");
    CHECK(r.channels == std::vector<std::string>{"/buckets/a", "/buckets/b/collections/c"});
    CHECK_FALSE(r.since.has_value());
    CHECK_FALSE(r.secret.has_value());
    CHECK(r.description.empty());
    CHECK(r.max_batch == 1);
}

TEST_CASE("creation: every field", "[webhooks]") {
    auto body = creation();
    body["url"] = "HTTP://hooks.example.com/k";
    body["since"] = {{"/buckets/a", {{"epoch", "9f2c61d0"}, {"offset", 41}}}};
    body["secret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    body["description"] = "indexer";
    body["max_batch"] = 100;
    auto const result = webhook_request::parse_creation(body, limits);
    REQUIRE(std::holds_alternative<creation_request>(result));
    auto const& r = std::get<creation_request>(result);
    CHECK(r.url == "HTTP://hooks.example.com/k");
    REQUIRE(r.since.has_value());
    CHECK_FALSE(r.since->timestamp.has_value());
    REQUIRE(r.since->positions.size() == 1);
    CHECK(r.since->positions.at("/buckets/a").epoch == "9f2c61d0");
    CHECK(r.since->positions.at("/buckets/a").offset == 41);
    CHECK(r.secret == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    CHECK(r.description == "indexer");
    CHECK(r.max_batch == 100);

    body["since"] = {{"timestamp", 1700000000000}};
    auto const by_time = webhook_request::parse_creation(body, limits);
    REQUIRE(std::holds_alternative<creation_request>(by_time));
    CHECK(std::get<creation_request>(by_time).since->timestamp == 1700000000000);
    CHECK(std::get<creation_request>(by_time).since->positions.empty());
}

TEST_CASE("creation: refusals name their field", "[webhooks]") {
    CHECK(creation_field(json::array()) == "body");
    CHECK(creation_field("text") == "body");
    {
        auto body = creation();
        body["foo"] = 1;
        auto const e = refusal(webhook_request::parse_creation(body, limits));
        CHECK(e.field == "foo");
        CHECK(e.message == "unknown field 'foo'");
    }
    auto with = [](char const* field, json value) {
        auto body = creation();
        body[field] = std::move(value);
        return creation_field(body);
    };
    auto without = [](char const* field) {
        auto body = creation();
        body.erase(field);
        return creation_field(body);
    };
    CHECK(without("url") == "url");
    CHECK(with("url", 3) == "url");
    CHECK(with("url", "ftp://x") == "url");
    CHECK(with("url", "hooks.example.com") == "url");
    CHECK(with("url", "https://") == "url");
    CHECK(with("url", "") == "url");
    CHECK(with("url", "https://" + std::string(2041, 'a')) == "url");  // 2049 bytes
    CHECK(std::holds_alternative<creation_request>(webhook_request::parse_creation(
        json{{"url", "https://" + std::string(2040, 'a')}, {"channels", {"/buckets/a"}}}, limits)));

    CHECK(without("channels") == "channels");
    CHECK(with("channels", "/buckets/a") == "channels");
    CHECK(with("channels", json::array()) == "channels");
    CHECK(with("channels", {"/buckets/a", 1}) == "channels");
    CHECK(with("channels", {"/nope"}) == "channels");
    CHECK(with("channels", {"/buckets/a", "/buckets/a"}) == "channels");
    {
        auto body = creation();
        body["channels"] = {"/buckets/*"};
        auto const e = refusal(webhook_request::parse_creation(body, limits));
        CHECK(e.field == "channels");
        CHECK(e.message.find("channel names, not patterns") != std::string::npos);
    }
    {
        json many = json::array();
        for (int i = 0; i < 3; ++i)
            many.push_back("/buckets/b" + std::to_string(i));
        request_limits const two{2, 2048, 1024};
        auto body = creation();
        body["channels"] = many;
        CHECK(refusal(webhook_request::parse_creation(body, two)).field == "channels");
    }

    CHECK(with("since", 5) == "since");
    CHECK(with("since", json::object()) == "since");
    CHECK(with("since", {{"/buckets/zzz", {{"epoch", "e"}, {"offset", 1}}}}) == "since");  // not its channel
    CHECK(with("since", {{"/buckets/a", {{"epoch", "e"}}}}) == "since");
    CHECK(with("since", {{"/buckets/a", {{"offset", 1}}}}) == "since");
    CHECK(with("since", {{"/buckets/a", {{"epoch", 1}, {"offset", 1}}}}) == "since");
    CHECK(with("since", {{"/buckets/a", {{"epoch", ""}, {"offset", 1}}}}) == "since");
    CHECK(with("since", {{"/buckets/a", {{"epoch", "e"}, {"offset", -1}}}}) == "since");
    CHECK(with("since", {{"/buckets/a", {{"epoch", "e"}, {"offset", 1.5}}}}) == "since");
    CHECK(with("since", {{"/buckets/a", {{"epoch", "e"}, {"offset", "1"}}}}) == "since");
    CHECK(with("since", {{"/buckets/a", {{"epoch", "e"}, {"offset", 1}, {"x", 1}}}}) == "since");
    CHECK(with("since", {{"timestamp", -1}}) == "since");
    CHECK(with("since", {{"timestamp", "1"}}) == "since");
    CHECK(with("since", {{"timestamp", 1}, {"/buckets/a", {{"epoch", "e"}, {"offset", 1}}}}) == "since");

    CHECK(with("secret", "whsec_short") == "secret");
    CHECK(with("secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == "secret");
    CHECK(with("secret", 1) == "secret");
    CHECK(with("description", 1) == "description");
    CHECK(with("description", nullptr) == "description");
    CHECK(with("description", std::string(1025, 'd')) == "description");
    CHECK(with("max_batch", 0) == "max_batch");
    CHECK(with("max_batch", 101) == "max_batch");
    CHECK(with("max_batch", -1) == "max_batch");
    CHECK(with("max_batch", 2.5) == "max_batch");
    CHECK(with("max_batch", true) == "max_batch");
    CHECK(with("max_batch", "5") == "max_batch");
}

TEST_CASE("patch: any subset of its fields, at least one", "[webhooks]") {
    auto const result = webhook_request::parse_patch(json{{"enabled", true}}, limits);
    REQUIRE(std::holds_alternative<patch_request>(result));
    auto const& r = std::get<patch_request>(result);
    CHECK(r.enabled == true);
    CHECK_FALSE(r.url.has_value());
    CHECK_FALSE(r.channels.has_value());
    CHECK_FALSE(r.description.has_value());
    CHECK_FALSE(r.max_batch.has_value());

    json const all{{"url", "http://x"}, {"channels", {"/buckets/c"}}, {"description", ""}, {"max_batch", 5},
                   {"enabled", false}};
    auto const full = webhook_request::parse_patch(all, limits);
    REQUIRE(std::holds_alternative<patch_request>(full));
    auto const& f = std::get<patch_request>(full);
    CHECK(f.url == "http://x");
    CHECK(f.channels == std::vector<std::string>{"/buckets/c"});
    CHECK(f.description == "");
    CHECK(f.max_batch == 5u);
    CHECK(f.enabled == false);
}

TEST_CASE("patch: refusals name their field", "[webhooks]") {
    auto field = [](json body) { return refusal(webhook_request::parse_patch(body, limits)).field; };
    CHECK(field(json::object()) == "body");
    CHECK(field(json::array()) == "body");
    CHECK(field({{"secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}) == "secret");  // not changeable
    CHECK(field({{"since", {{"timestamp", 1}}}}) == "since");
    CHECK(field({{"enabled", "true"}}) == "enabled");
    CHECK(field({{"enabled", 1}}) == "enabled");
    CHECK(field({{"url", "mailto:x"}}) == "url");
    CHECK(field({{"channels", json::array()}}) == "channels");
    CHECK(field({{"channels", {"/buckets/a*"}}}) == "channels");
    CHECK(field({{"max_batch", 0}}) == "max_batch");
    CHECK(field({{"description", false}}) == "description");
    CHECK(refusal(webhook_request::parse_patch({{"bar", 1}}, limits)).message == "unknown field 'bar'");
    // Found by fuzz/webhook_request: an empty key still gets a field to blame.
    auto const empty_key = refusal(webhook_request::parse_patch(json::parse(R"({"": false})"), limits));
    CHECK(empty_key.field == "body");
    CHECK(empty_key.message == "unknown field ''");
}

TEST_CASE("replay: a channel and exactly one of a position or a timestamp", "[webhooks]") {
    auto const by_position = webhook_request::parse_replay(
        json{{"channel", "/buckets/a"}, {"since", {{"epoch", "e1"}, {"offset", 0}}}});
    REQUIRE(std::holds_alternative<replay_request>(by_position));
    auto const& p = std::get<replay_request>(by_position);
    CHECK(p.channel == "/buckets/a");
    CHECK_FALSE(p.since.timestamp.has_value());
    REQUIRE(p.since.positions.count("/buckets/a") == 1);
    CHECK(p.since.positions.at("/buckets/a").epoch == "e1");
    CHECK(p.since.positions.at("/buckets/a").offset == 0);

    auto const by_time = webhook_request::parse_replay(json{{"channel", "/buckets/a"}, {"since", {{"timestamp", 0}}}});
    REQUIRE(std::holds_alternative<replay_request>(by_time));
    CHECK(std::get<replay_request>(by_time).since.timestamp == 0);
    CHECK(std::get<replay_request>(by_time).since.positions.empty());

    auto field = [](json body) { return refusal(webhook_request::parse_replay(body)).field; };
    CHECK(field(json::array()) == "body");
    CHECK(field({{"since", {{"timestamp", 0}}}}) == "channel");
    CHECK(field({{"channel", 1}, {"since", {{"timestamp", 0}}}}) == "channel");
    CHECK(field({{"channel", "/buckets/*"}, {"since", {{"timestamp", 0}}}}) == "channel");
    CHECK(field({{"channel", "nope"}, {"since", {{"timestamp", 0}}}}) == "channel");
    CHECK(field({{"channel", "/buckets/a"}}) == "since");
    CHECK(field({{"channel", "/buckets/a"}, {"since", json::object()}}) == "since");
    CHECK(field({{"channel", "/buckets/a"}, {"since", {{"timestamp", 1}, {"epoch", "e"}, {"offset", 1}}}}) == "since");
    CHECK(field({{"channel", "/buckets/a"}, {"since", {{"timestamp", 1.5}}}}) == "since");
    CHECK(field({{"channel", "/buckets/a"}, {"since", {{"epoch", "e"}, {"offset", -2}}}}) == "since");
    CHECK(field({{"channel", "/buckets/a"}, {"since", {{"timestamp", 0}}}, {"x", 1}}) == "x");
}

TEST_CASE("request bodies parsed from text, as the endpoints receive them", "[webhooks]") {
    auto const body = json::parse(R"({"url": "https://h.example/x", "channels": ["/buckets/a"],
        "since": {"/buckets/a": {"epoch": "e", "offset": 18446744073709551615}}, "max_batch": 7})");
    auto const result = webhook_request::parse_creation(body, limits);
    REQUIRE(std::holds_alternative<creation_request>(result));
    auto const& r = std::get<creation_request>(result);
    CHECK(r.since->positions.at("/buckets/a").offset == 18446744073709551615ull);
    CHECK(r.max_batch == 7);
    auto const too_late = json::parse(R"({"channel": "/buckets/a", "since": {"timestamp": 9223372036854775808}})");
    CHECK(refusal(webhook_request::parse_replay(too_late)).field == "since");
    auto const latest = json::parse(R"({"channel": "/buckets/a", "since": {"timestamp": 9223372036854775807}})");
    REQUIRE(std::holds_alternative<replay_request>(webhook_request::parse_replay(latest)));
}
