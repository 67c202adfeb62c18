// text::parse_unsigned: the texts that count as whole numbers in options, ports and query
// parameters, pinned, since every caller accepts exactly these.

#include "text/unsigned_number.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using kp::text::parse_unsigned;

TEST_CASE("parse_unsigned takes decimal digits, leading zeros included, up to 2^64 - 1", "[text]") {
    CHECK(parse_unsigned("0") == 0u);
    CHECK(parse_unsigned("7") == 7u);
    CHECK(parse_unsigned("65535") == 65535u);
    CHECK(parse_unsigned("007") == 7u);
    CHECK(parse_unsigned("0000") == 0u);
    CHECK(parse_unsigned("18446744073709551615") == 18446744073709551615u);
    CHECK(parse_unsigned("000018446744073709551615") == 18446744073709551615u);
}

TEST_CASE("parse_unsigned refuses everything else", "[text]") {
    for (std::string const& bad : std::vector<std::string>{
             "",                        // empty
             "18446744073709551616",    // 2^64: overflow
             "99999999999999999999999", // far over
             "+1", "-1", "-0",          // signs
             " 1", "1 ", "\t1", "1\n",  // blanks
             "1.0", "1e3", "0x10", "1_000", "1,000", "12a", "a12",
             std::string("1\0", 2)}) {  // a NUL after the digits
        CAPTURE(bad);
        CHECK_FALSE(parse_unsigned(bad).has_value());
    }
}
