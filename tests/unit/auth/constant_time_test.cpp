// auth::constant_time_equal: secret comparison.

#include "auth/constant_time.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::auth::constant_time_equal;

TEST_CASE("constant_time_equal is plain equality of the bytes", "[auth]") {
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("secret", "secret"));
    CHECK(constant_time_equal(std::string(1000, 'x'), std::string(1000, 'x')));
    CHECK(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));

    CHECK_FALSE(constant_time_equal("secret", "Secret"));
    CHECK_FALSE(constant_time_equal("secret", "secreT"));
    CHECK_FALSE(constant_time_equal("secret", "secret "));
    CHECK_FALSE(constant_time_equal("secret", "secre"));
    CHECK_FALSE(constant_time_equal("secret", ""));
    CHECK_FALSE(constant_time_equal("", "secret"));
    CHECK_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
    CHECK_FALSE(constant_time_equal(std::string("a\0b", 3), "a"));
}
