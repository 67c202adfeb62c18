// webhooks/webhook_definition: ids, the store's text (with the secret) and the public JSON
// (without it).

#include "webhooks/webhook_definition.hpp"

#include "webhooks/webhook_signature.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using kp::webhooks::webhook_definition;

namespace {

webhook_definition sample() {
    webhook_definition d;
    d.id = webhook_definition::new_id();
    d.url = "https://hooks.example.com/kinto";
    d.channels = {"/buckets/main/collections/a", "/buckets/b"};
    d.description = "the \"search\" indexer";
    d.max_batch = 10;
    d.enabled = false;
    d.disabled_reason = "410 Gone";
    d.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    d.created_ms = 1796600511123;
    return d;
}

}  // namespace

TEST_CASE("webhook ids are wh_ and 32 lower-case hex digits, each different", "[webhooks]") {
    std::set<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        auto const id = webhook_definition::new_id();
        CHECK(webhook_definition::valid_id(id));
        CHECK(id.size() == 35);
        CHECK(id.rfind("wh_", 0) == 0);
        CHECK(id.find_first_not_of("0123456789abcdef", 3) == std::string::npos);
        ids.insert(id);
    }
    CHECK(ids.size() == 20);
    CHECK_FALSE(webhook_definition::valid_id("wh_0123456789ABCDEF0123456789abcdef"));
    CHECK_FALSE(webhook_definition::valid_id("wh_0123456789abcdef0123456789abcde"));
    CHECK_FALSE(webhook_definition::valid_id("xx_0123456789abcdef0123456789abcdef"));
}

TEST_CASE("a definition survives the store's text, secret included", "[webhooks]") {
    auto const d = sample();
    auto const back = webhook_definition::from_store_text(d.to_store_text());
    REQUIRE(back.has_value());
    CHECK(back->id == d.id);
    CHECK(back->url == d.url);
    CHECK(back->channels == d.channels);
    CHECK(back->description == d.description);
    CHECK(back->max_batch == 10);
    CHECK(back->enabled == false);
    CHECK(back->disabled_reason == d.disabled_reason);
    CHECK(back->secret == d.secret);
    CHECK(back->created_ms == d.created_ms);

    auto active = sample();
    active.enabled = true;
    active.disabled_reason.reset();
    auto const active_back = webhook_definition::from_store_text(active.to_store_text());
    REQUIRE(active_back.has_value());
    CHECK_FALSE(active_back->disabled_reason.has_value());
    CHECK(active_back->enabled);
}

TEST_CASE("the store's text is refused when anything in it is wrong", "[webhooks]") {
    auto const good = nlohmann::json::parse(sample().to_store_text());
    CHECK(webhook_definition::from_store_text(good.dump()).has_value());
    CHECK_FALSE(webhook_definition::from_store_text("").has_value());
    CHECK_FALSE(webhook_definition::from_store_text("{").has_value());
    CHECK_FALSE(webhook_definition::from_store_text("[]").has_value());
    for (auto const& field : {"id", "url", "channels", "description", "max_batch", "enabled", "disabled_reason",
                              "secret", "created_ms"}) {
        auto missing = good;
        missing.erase(field);
        CAPTURE(field);
        CHECK_FALSE(webhook_definition::from_store_text(missing.dump()).has_value());
    }
    auto with = [&](char const* field, nlohmann::json value) {
        auto changed = good;
        changed[field] = std::move(value);
        return webhook_definition::from_store_text(changed.dump()).has_value();
    };
    CHECK_FALSE(with("id", "wh_nothex"));
    CHECK_FALSE(with("url", ""));
    CHECK_FALSE(with("channels", nlohmann::json::array()));
    CHECK_FALSE(with("channels", {"/buckets/a", "/buckets/a"}));
    CHECK_FALSE(with("channels", {"/buckets/*"}));
    CHECK_FALSE(with("channels", {1}));
    CHECK_FALSE(with("max_batch", 0));
    CHECK_FALSE(with("max_batch", 101));
    CHECK(with("max_batch", 100));
    CHECK_FALSE(with("enabled", "yes"));
    CHECK_FALSE(with("disabled_reason", 3));
    CHECK_FALSE(with("secret", "whsec_short"));
    CHECK_FALSE(with("created_ms", 1.5));
}

TEST_CASE("the public JSON never shows the secret", "[webhooks]") {
    auto const d = sample();
    auto const json = d.public_json();
    CHECK(json.dump() == R"({"id":")" + d.id +
                             R"(","url":"https://hooks.example.com/kinto","channels":["/buckets/main/collections/a","/buckets/b"],)"
                             R"("description":"the \"search\" indexer","max_batch":10,"enabled":false,)"
                             R"("disabled_reason":"410 Gone","created":"2026-12-06T23:41:51.123Z"})");
    CHECK(json.dump().find("whsec_") == std::string::npos);
    auto active = sample();
    active.disabled_reason.reset();
    CHECK(active.public_json()["disabled_reason"].is_null());
}
