// text::base64: the standard, padded alphabet of webhook secrets and signatures; strict decoding.

#include "text/base64.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using kp::text::base64_decode;
using kp::text::base64_encode;

TEST_CASE("base64 encodes RFC 4648's test vectors, padded", "[base64]") {
    // RFC 4648 section 10.
    std::vector<std::pair<std::string, std::string>> const vectors{
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (auto const& [bytes, text] : vectors) {
        CAPTURE(bytes);
        CHECK(base64_encode(bytes) == text);
        CHECK(base64_decode(text).value() == bytes);
    }
    // The two characters where the standard alphabet differs from the URL-safe one.
    CHECK(base64_encode(std::string("\xfb\xff\xbf", 3)) == "+/+/");
    CHECK(base64_decode("+/+/").value() == std::string("\xfb\xff\xbf", 3));
}

TEST_CASE("base64 round-trips every byte value and length", "[base64]") {
    std::string bytes;
    for (int i = 0; i < 256; ++i) {
        bytes += static_cast<char>(i);
        auto const text = base64_encode(bytes);
        CHECK(text.size() % 4 == 0);
        auto const back = base64_decode(text);
        REQUIRE(back.has_value());
        CHECK(*back == bytes);
    }
}

TEST_CASE("base64 decoding refuses every other spelling", "[base64]") {
    for (std::string const bad : {
             "Zg",        // padding missing
             "Zg=",       // padding short
             "Zm8",       // padding missing
             "Zg===",     // not a multiple of 4
             "Z===",      // three '='
             "====",      // only padding
             "Zg==Zg==",  // padding in the middle
             "Z=g=",      // '=' before a digit
             "Zh==",      // unused bits not zero ("Zg==" is the one spelling)
             "Zm9=",      // unused bits not zero ("Zm8=")
             "-_-_",      // URL-safe alphabet
             "Zm9 v",     // whitespace
             "Zm9v\n",    // newline
             "Zm9v====",  // padding past a full block
         }) {
        CAPTURE(bad);
        CHECK_FALSE(base64_decode(bad).has_value());
    }
}
