// webhooks/retry_policy: exponential backoff with jitter, capped.

#include "webhooks/retry_policy.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using kp::webhooks::retry_policy;
using ms = std::chrono::milliseconds;

TEST_CASE("retry delays double from the initial one up to the cap", "[webhooks]") {
    retry_policy const policy(ms(1000), ms(3'600'000));
    CHECK(policy.ceiling(0) == ms(1000));
    CHECK(policy.ceiling(1) == ms(1000));
    CHECK(policy.ceiling(2) == ms(2000));
    CHECK(policy.ceiling(3) == ms(4000));
    CHECK(policy.ceiling(12) == ms(2'048'000));
    CHECK(policy.ceiling(13) == ms(3'600'000));  // 4'096'000 capped
    CHECK(policy.ceiling(64) == ms(3'600'000));
    CHECK(policy.ceiling(4'000'000'000u) == ms(3'600'000));  // no overflow
    ms previous(0);
    for (unsigned failures = 1; failures < 200; ++failures) {
        auto const d = policy.ceiling(failures);
        CHECK(d >= previous);
        CHECK(d <= policy.max());
        previous = d;
    }
}

TEST_CASE("retry delays stay within [d/2, d] whatever the random draw", "[webhooks]") {
    retry_policy const policy(ms(1000), ms(3'600'000));
    for (unsigned failures : {1u, 2u, 5u, 13u, 100u, 4'000'000'000u}) {
        auto const d = policy.ceiling(failures);
        CAPTURE(failures);
        CHECK(policy.delay(failures, 0.0) == d / 2);
        for (double r : {0.0, 0.1, 0.5, 0.9, 0.999999}) {
            auto const delay = policy.delay(failures, r);
            CHECK(delay >= d / 2);
            CHECK(delay <= d);
        }
        CHECK(policy.delay(failures, 0.25) <= policy.delay(failures, 0.75));
        // Out-of-range draws are clamped, not trusted.
        CHECK(policy.delay(failures, -5.0) == d / 2);
        CHECK(policy.delay(failures, 7.0) <= d);
        CHECK(policy.delay(failures, 7.0) >= d / 2);
    }
    CHECK(policy.delay(2, 0.5) == ms(1500));
}

TEST_CASE("retry policy refuses a zero initial delay or a cap below it", "[webhooks]") {
    CHECK_THROWS_AS(retry_policy(ms(0), ms(10)), std::invalid_argument);
    CHECK_THROWS_AS(retry_policy(ms(20), ms(10)), std::invalid_argument);
    retry_policy const flat(ms(10), ms(10));
    CHECK(flat.ceiling(30) == ms(10));
}
