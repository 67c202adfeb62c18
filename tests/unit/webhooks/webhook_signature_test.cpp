// webhooks/webhook_signature: Standard Webhooks secrets, signatures and delivery ids.

#include "webhooks/webhook_signature.hpp"

#include "text/base64.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace kp::webhooks;

TEST_CASE("sign matches the Standard Webhooks test vector", "[webhooks]") {
    auto const signature = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                R"({"test": 2432232314})");
    REQUIRE(signature.has_value());
    CHECK(*signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST_CASE("sign covers the id, the timestamp and the body", "[webhooks]") {
    std::string const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    auto const base = sign(secret, "msg_a", 100, "{}").value();
    CHECK(sign(secret, "msg_b", 100, "{}").value() != base);
    CHECK(sign(secret, "msg_a", 101, "{}").value() != base);
    CHECK(sign(secret, "msg_a", 100, "{ }").value() != base);
    CHECK(sign(generate_secret(), "msg_a", 100, "{}").value() != base);
    CHECK(sign(secret, "msg_a", 100, "{}").value() == base);
}

TEST_CASE("sign refuses invalid secrets", "[webhooks]") {
    CHECK_FALSE(sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg", 1, "{}").has_value());
    CHECK_FALSE(sign("whsec_", "msg", 1, "{}").has_value());
}

TEST_CASE("generated secrets are valid, 32 random bytes, each different", "[webhooks]") {
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
        auto const secret = generate_secret();
        CHECK(valid_secret(secret));
        REQUIRE(secret.rfind("whsec_", 0) == 0);
        CHECK(kp::text::base64_decode(secret.substr(6)).value().size() == 32);
        seen.insert(secret);
    }
    CHECK(seen.size() == 20);
}

TEST_CASE("valid_secret wants whsec_ and strict base64 of 24 to 64 bytes", "[webhooks]") {
    using kp::text::base64_encode;
    CHECK(valid_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // 24 bytes
    CHECK(valid_secret("whsec_" + base64_encode(std::string(24, 'k'))));
    CHECK(valid_secret("whsec_" + base64_encode(std::string(64, 'k'))));
    CHECK_FALSE(valid_secret("whsec_" + base64_encode(std::string(23, 'k'))));
    CHECK_FALSE(valid_secret("whsec_" + base64_encode(std::string(65, 'k'))));
    CHECK_FALSE(valid_secret(base64_encode(std::string(32, 'k'))));                // no prefix
    CHECK_FALSE(valid_secret("WHSEC_" + base64_encode(std::string(32, 'k'))));     // prefix case
    CHECK_FALSE(valid_secret("whsec_" + base64_encode(std::string(32, 'k')) + " "));
    CHECK_FALSE(valid_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"));           // not base64
    CHECK_FALSE(valid_secret(""));
}

TEST_CASE("delivery ids are stable, distinct per part, and of the msg_ form", "[webhooks]") {
    auto const id = delivery_id("wh_1", "ep", "/buckets/a", 1, 3, "kinto.events");
    CHECK(id == delivery_id("wh_1", "ep", "/buckets/a", 1, 3, "kinto.events"));
    // Pinned (computed apart with Python's hashlib): a new version must not change the ids of
    // deliveries a previous one was retrying.
    CHECK(id == "msg_0b90485e53b41b0e95afa99d8682ca16");
    REQUIRE(id.size() == 4 + 32);
    CHECK(id.rfind("msg_", 0) == 0);
    CHECK(id.find_first_not_of("0123456789abcdef", 4) == std::string::npos);
    std::set<std::string> const ids{
        id,
        delivery_id("wh_2", "ep", "/buckets/a", 1, 3, "kinto.events"),
        delivery_id("wh_1", "eq", "/buckets/a", 1, 3, "kinto.events"),
        delivery_id("wh_1", "ep", "/buckets/b", 1, 3, "kinto.events"),
        delivery_id("wh_1", "ep", "/buckets/a", 2, 3, "kinto.events"),
        delivery_id("wh_1", "ep", "/buckets/a", 1, 4, "kinto.events"),
        delivery_id("wh_1", "ep", "/buckets/a", 1, 3, "kinto.resync"),
        // The same characters split differently between parts: the lengths keep them apart.
        delivery_id("wh_1e", "p", "/buckets/a", 1, 3, "kinto.events"),
        delivery_id("wh_1", "ep", "/buckets/a", 13, 3, "kinto.events"),
    };
    CHECK(ids.size() == 9);
}
