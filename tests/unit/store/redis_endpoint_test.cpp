// --store redis://… URLs: host, port, database, credentials, TLS, and what is refused.

#include "store/redis_endpoint.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::store::redis_endpoint;

namespace {

redis_endpoint ok(std::string const& url) {
    auto parsed = redis_endpoint::parse(url);
    if (auto* why = std::get_if<std::string>(&parsed)) FAIL(url << ": " << *why);
    return std::get<redis_endpoint>(parsed);
}

std::string refused(std::string const& url) {
    auto parsed = redis_endpoint::parse(url);
    REQUIRE(std::holds_alternative<std::string>(parsed));
    return std::get<std::string>(parsed);
}

}  // namespace

TEST_CASE("redis_endpoint: host, port and database, with defaults", "[redis][config]") {
    auto e = ok("redis://127.0.0.1:6380/2");
    CHECK(e.host == "127.0.0.1");
    CHECK(e.port == 6380);
    CHECK(e.db == 2);
    CHECK_FALSE(e.tls);
    CHECK_FALSE(e.password);
    auto d = ok("redis://cache.internal");
    CHECK(d.host == "cache.internal");
    CHECK(d.port == 6379);
    CHECK(d.db == 0);
    CHECK(ok("redis://h/").db == 0);
    auto v6 = ok("redis://[::1]:7000/1");
    CHECK(v6.host == "::1");
    CHECK(v6.port == 7000);
    CHECK(v6.describe() == "redis://[::1]:7000/1");
}

TEST_CASE("redis_endpoint: password, ACL user, percent-escapes; never in describe()", "[redis][config]") {
    auto p = ok("redis://:s3cret@h:1/0");
    CHECK(p.password == "s3cret");
    CHECK_FALSE(p.username);
    auto u = ok("redis://app:p%40ss%3Aw@h:1/0");
    CHECK(u.username == "app");
    CHECK(u.password == "p@ss:w");
    CHECK(u.describe() == "redis://h:1/0");
}

TEST_CASE("redis_endpoint: rediss:// means TLS", "[redis][config]") {
    auto t = ok("rediss://redis.example.com:6380/0");
    CHECK(t.tls);
    CHECK(t.describe() == "rediss://redis.example.com:6380/0");
}

TEST_CASE("redis_endpoint: bad URLs are refused with a reason", "[redis][config]") {
    CHECK_THAT(refused("http://h:1/0"), Catch::Contains("redis://"));
    CHECK_THAT(refused("redis://:1/0"), Catch::Contains("host"));
    CHECK_THAT(refused("redis://h:0/0"), Catch::Contains("port"));
    CHECK_THAT(refused("redis://h:70000/0"), Catch::Contains("port"));
    CHECK_THAT(refused("redis://h:x/0"), Catch::Contains("port"));
    CHECK_THAT(refused("redis://h:/0"), Catch::Contains("port"));
    CHECK_THAT(refused("redis://h:1/db"), Catch::Contains("database"));
    CHECK_THAT(refused("redis://h:1/-1"), Catch::Contains("database"));
    CHECK_THAT(refused("redis://:%zz@h"), Catch::Contains("percent"));
    CHECK_THAT(refused("redis://:%4@h"), Catch::Contains("percent"));
    CHECK_THAT(refused("redis://user@h"), Catch::Contains("password"));
    CHECK_THAT(refused("redis://[::1:1/0"), Catch::Contains("IPv6"));
}
