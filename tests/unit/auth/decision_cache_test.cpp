// auth::decision_cache: Kinto's recent answers per (credential, channel).

#include "auth/decision_cache.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using kp::auth::decision_cache;

namespace {

constexpr std::int64_t t0 = 1717000000000;
std::string const alice = "Basic YWxpY2U6czNjcmV0";
std::string const bob = "Bearer bob-token";
std::string const articles = "/buckets/blog/collections/articles";
std::string const comments = "/buckets/blog/collections/comments";

}  // namespace

TEST_CASE("decision_cache: a miss, then the stored answer", "[auth]") {
    decision_cache cache(60000, 5000, 100);
    CHECK_FALSE(cache.get(alice, articles, t0).has_value());
    cache.put(alice, articles, true, t0);
    cache.put(alice, comments, false, t0);
    CHECK(cache.get(alice, articles, t0) == std::optional<bool>(true));
    CHECK(cache.get(alice, comments, t0) == std::optional<bool>(false));
    CHECK(cache.size() == 2);
}

TEST_CASE("decision_cache: allowed and denied answers expire after their own TTL", "[auth]") {
    decision_cache cache(60000, 5000, 100);
    cache.put(alice, articles, true, t0);
    cache.put(alice, comments, false, t0);

    CHECK(cache.get(alice, comments, t0 + 4999) == std::optional<bool>(false));
    CHECK_FALSE(cache.get(alice, comments, t0 + 5000).has_value());
    CHECK(cache.size() == 1);  // the stale entry was dropped
    CHECK(cache.get(alice, articles, t0 + 5000) == std::optional<bool>(true));
    CHECK(cache.get(alice, articles, t0 + 59999) == std::optional<bool>(true));
    CHECK_FALSE(cache.get(alice, articles, t0 + 60000).has_value());
    CHECK(cache.size() == 0);
    // Still gone later.
    CHECK_FALSE(cache.get(alice, articles, t0 + 60001).has_value());
}

TEST_CASE("decision_cache: put replaces the answer and restarts its TTL", "[auth]") {
    decision_cache cache(60000, 5000, 100);
    cache.put(alice, articles, false, t0);
    cache.put(alice, articles, true, t0 + 4000);
    CHECK(cache.size() == 1);
    CHECK(cache.get(alice, articles, t0 + 10000) == std::optional<bool>(true));
    CHECK(cache.get(alice, articles, t0 + 63999) == std::optional<bool>(true));
    CHECK_FALSE(cache.get(alice, articles, t0 + 64000).has_value());

    cache.put(bob, articles, true, t0);
    cache.put(bob, articles, false, t0 + 1000);
    CHECK(cache.get(bob, articles, t0 + 5999) == std::optional<bool>(false));
    CHECK_FALSE(cache.get(bob, articles, t0 + 6000).has_value());
}

TEST_CASE("decision_cache: keys differ per credential and per channel", "[auth]") {
    decision_cache cache(60000, 60000, 100);
    cache.put(alice, articles, true, t0);
    CHECK_FALSE(cache.get(bob, articles, t0).has_value());
    CHECK_FALSE(cache.get(alice, comments, t0).has_value());
    CHECK_FALSE(cache.get(alice + " ", articles, t0).has_value());
    CHECK_FALSE(cache.get(alice, articles + "/", t0).has_value());
    CHECK_FALSE(cache.get("", articles, t0).has_value());
    // The separator keeps the credential and the channel apart.
    CHECK_FALSE(cache.get(alice + "\n/buckets", "/blog/collections/articles", t0).has_value());

    cache.put(bob, articles, false, t0);
    cache.put(alice, comments, false, t0);
    CHECK(cache.get(alice, articles, t0) == std::optional<bool>(true));
    CHECK(cache.get(bob, articles, t0) == std::optional<bool>(false));
    CHECK(cache.get(alice, comments, t0) == std::optional<bool>(false));
    CHECK(cache.size() == 3);
}

TEST_CASE("decision_cache: over capacity, the least recently used goes", "[auth]") {
    decision_cache cache(60000, 60000, 3);
    cache.put("a", articles, true, t0);
    cache.put("b", articles, true, t0);
    cache.put("c", articles, true, t0);
    CHECK(cache.size() == 3);
    // A hit on "a" makes "b" the least recently used.
    CHECK(cache.get("a", articles, t0).has_value());
    cache.put("d", articles, true, t0);
    CHECK(cache.size() == 3);
    CHECK_FALSE(cache.get("b", articles, t0).has_value());
    CHECK(cache.get("a", articles, t0).has_value());
    CHECK(cache.get("c", articles, t0).has_value());
    CHECK(cache.get("d", articles, t0).has_value());

    // Replacing an entry is a use and does not evict anything.
    cache.put("a", articles, false, t0);  // order now (most recent first): a, d, c
    CHECK(cache.size() == 3);
    cache.put("e", articles, true, t0);
    CHECK_FALSE(cache.get("c", articles, t0).has_value());
    CHECK(cache.get("a", articles, t0) == std::optional<bool>(false));
    CHECK(cache.get("d", articles, t0).has_value());
    CHECK(cache.get("e", articles, t0).has_value());

    cache.clear();
    CHECK(cache.size() == 0);
    CHECK_FALSE(cache.get("a", articles, t0).has_value());
}

TEST_CASE("decision_cache: a TTL or a capacity of 0 caches nothing", "[auth]") {
    decision_cache no_denied(60000, 0, 10);
    no_denied.put(alice, articles, false, t0);
    no_denied.put(alice, comments, true, t0);
    CHECK_FALSE(no_denied.get(alice, articles, t0).has_value());
    CHECK(no_denied.get(alice, comments, t0) == std::optional<bool>(true));

    decision_cache none(60000, 60000, 0);
    none.put(alice, articles, true, t0);
    CHECK(none.size() == 0);
    CHECK_FALSE(none.get(alice, articles, t0).has_value());
}
