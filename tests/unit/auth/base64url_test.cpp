// auth::base64url: the encoding of JWTs.

#include "auth/base64url.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using kp::auth::base64url;

TEST_CASE("base64url encodes without padding (RFC 4648 test vectors)", "[auth]") {
    CHECK(base64url::encode("") == "");
    CHECK(base64url::encode("f") == "Zg");
    CHECK(base64url::encode("fo") == "Zm8");
    CHECK(base64url::encode("foo") == "Zm9v");
    CHECK(base64url::encode("foob") == "Zm9vYg");
    CHECK(base64url::encode("fooba") == "Zm9vYmE");
    CHECK(base64url::encode("foobar") == "Zm9vYmFy");
    CHECK(base64url::encode("\xfb\xff\xbf") == "-_-_");
}

TEST_CASE("base64url decodes what it encodes, for every length and byte", "[auth]") {
    std::string bytes;
    for (int i = 0; i < 300; ++i) {
        auto decoded = base64url::decode(base64url::encode(bytes));
        REQUIRE(decoded.has_value());
        CHECK(*decoded == bytes);
        bytes += static_cast<char>((i * 37 + 11) & 0xff);
    }
    CHECK(base64url::decode("").value() == "");
    CHECK(base64url::decode("Zm9vYmFy").value() == "foobar");
    CHECK(base64url::decode("-_-_").value() == "\xfb\xff\xbf");
}

TEST_CASE("base64url refuses padding, other alphabets and non-canonical text", "[auth]") {
    for (std::string const& bad : std::vector<std::string>{"Zg==", "Zm8=", "Z", "Zm9vY", "+/+/", "Zm9v\n",
                                                           "Zm 9v", "Zm9v.", "Zh", "Zm9"}) {
        CAPTURE(bad);
        CHECK_FALSE(base64url::decode(bad).has_value());
    }
    // "Zg" is "f"; "Zh" carries the same byte with a non-zero unused bit.
    CHECK(base64url::decode("Zg").value() == "f");
    CHECK(base64url::decode("Zm8").value() == "fo");
}
