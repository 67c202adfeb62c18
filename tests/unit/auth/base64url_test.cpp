// auth::base64url and auth::hex: the encodings of JWTs and signature headers.

#include "auth/base64url.hpp"
#include "auth/hex.hpp"

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

TEST_CASE("hex encodes lower case and decodes either case", "[auth]") {
    using kp::auth::hex_decode;
    using kp::auth::hex_encode;
    CHECK(hex_encode("") == "");
    CHECK(hex_encode(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
    CHECK(hex_decode("0001abff").value() == std::string("\x00\x01\xab\xff", 4));
    CHECK(hex_decode("0001ABFF").value() == std::string("\x00\x01\xab\xff", 4));
    CHECK(hex_decode("").value() == "");
    for (std::string const& bad :
         std::vector<std::string>{"0", "abc", "0g", "g0", "zz", " 00", "00 ", "0x00", "-1"}) {
        CAPTURE(bad);
        CHECK_FALSE(hex_decode(bad).has_value());
    }
}
