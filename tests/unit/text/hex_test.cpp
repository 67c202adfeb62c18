// text::hex: the encoding of signature headers, idempotency keys and random ids.

#include "text/hex.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

TEST_CASE("hex encodes lower case and decodes either case", "[text]") {
    using kp::text::hex_decode;
    using kp::text::hex_encode;
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
