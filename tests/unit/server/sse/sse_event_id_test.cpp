#include "server/sse/sse_event_id.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using kp::server::sse_event_id;
using offsets = std::vector<std::optional<std::uint64_t>>;

TEST_CASE("sse_event_id writes the epoch, then one offset per channel, empty when none yet", "[sse]") {
    std::string id = "kept|";
    offsets const positions{41, std::nullopt, 7};
    sse_event_id::append(id, "9f2c61d0", positions);
    CHECK(id == "kept|9f2c61d0_41__7");

    std::string one;
    offsets const single{0};
    sse_event_id::append(one, "ab", single);
    CHECK(one == "ab_0");
}

TEST_CASE("sse_event_id reads back what it writes", "[sse]") {
    offsets const positions{18446744073709551615ull, std::nullopt, 0};
    std::string id;
    sse_event_id::append(id, "9f2c61d0", positions);
    auto parsed = sse_event_id::parse(id, 3);
    REQUIRE(parsed);
    CHECK(parsed->epoch == "9f2c61d0");
    CHECK(parsed->offsets == positions);
}

TEST_CASE("sse_event_id refuses ids that are not ours", "[sse]") {
    CHECK_FALSE(sse_event_id::parse("", 1));
    CHECK_FALSE(sse_event_id::parse("garbage", 1));                 // no separator
    CHECK_FALSE(sse_event_id::parse("_41", 1));                     // no epoch
    CHECK_FALSE(sse_event_id::parse("9f2c61d0_41", 2));             // too few offsets
    CHECK_FALSE(sse_event_id::parse("9f2c61d0_41_42_43", 2));       // too many
    CHECK_FALSE(sse_event_id::parse("9f2c61d0_4x", 1));             // not a number
    CHECK_FALSE(sse_event_id::parse("9f2c61d0_-1", 1));
    CHECK_FALSE(sse_event_id::parse("9f2c61d0_18446744073709551616", 1));   // over 64 bits
    CHECK_FALSE(sse_event_id::parse("9f 2c_1", 1));                 // not an epoch
    CHECK_FALSE(sse_event_id::parse(std::string(65, 'a') + "_1", 1));
    CHECK_FALSE(sse_event_id::parse("9f2c61d0_1", 0));
    std::string const huge = "9f2c61d0_" + std::string(sse_event_id::max_length, '1');
    CHECK_FALSE(sse_event_id::parse(huge, 1));                      // too long

    auto empty_slot = sse_event_id::parse("9f2c61d0__", 2);
    REQUIRE(empty_slot);
    CHECK(empty_slot->offsets == offsets{std::nullopt, std::nullopt});
}
