// auth::publisher_auth: who may POST /v1/events (PROTOCOL.md section 2).

#include "auth/publisher_auth.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using kp::auth::publisher_auth;
using verdict = kp::auth::publisher_auth::verdict;

TEST_CASE("without a secret, loopback publishers are allowed and others refused", "[auth]") {
    publisher_auth const auth(std::nullopt);
    CHECK_FALSE(auth.has_secret());
    CHECK(auth.check("", true) == verdict::allowed);
    CHECK(auth.check("Bearer anything", true) == verdict::allowed);
    CHECK(auth.check("", false) != verdict::allowed);
    CHECK(auth.check("Bearer anything", false) != verdict::allowed);
    CHECK(auth.check("Bearer ", false) != verdict::allowed);
}

TEST_CASE("with a secret, only the right bearer secret is allowed, from anywhere", "[auth]") {
    publisher_auth const auth(std::string("s3cret-value"));
    CHECK(auth.has_secret());
    for (bool loopback : {true, false}) {
        CAPTURE(loopback);
        CHECK(auth.check("", loopback) == verdict::missing);
        CHECK(auth.check("Bearer s3cret-value", loopback) == verdict::allowed);
        CHECK(auth.check("Bearer wrong", loopback) == verdict::invalid);
        CHECK(auth.check("Bearer s3cret-valu", loopback) == verdict::invalid);
        CHECK(auth.check("Bearer s3cret-value2", loopback) == verdict::invalid);
        CHECK(auth.check("Bearer S3CRET-VALUE", loopback) == verdict::invalid);
        CHECK(auth.check("Bearer ", loopback) == verdict::invalid);
        CHECK(auth.check("Bearer", loopback) == verdict::invalid);
        CHECK(auth.check("s3cret-value", loopback) == verdict::invalid);
        CHECK(auth.check("Basic s3cret-value", loopback) == verdict::invalid);
        CHECK(auth.check("Token s3cret-value", loopback) == verdict::invalid);
        CHECK(auth.check("Bearers3cret-value", loopback) == verdict::invalid);
    }
}

TEST_CASE("the Bearer scheme is case-insensitive, the secret is not", "[auth]") {
    publisher_auth const auth(std::string("Secret"));
    CHECK(auth.check("bearer Secret", false) == verdict::allowed);
    CHECK(auth.check("BEARER Secret", false) == verdict::allowed);
    CHECK(auth.check("BeArEr Secret", false) == verdict::allowed);
    CHECK(auth.check("bearer secret", false) == verdict::invalid);
    CHECK(auth.check("bearer SECRET", false) == verdict::invalid);
}
