// What the Redis scripts write and kinto-push reads back: published transactions, dedupe
// values, stream entries. Malformed text is refused, never half-read.

#include "store/redis_wire_format.hpp"

#include "tests/unit/store/redis_replies.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::store::channel_offset;
using kp::store::redis_reply;
using kp::test::array;
using kp::test::bulk;
using kp::store::redis_wire_format;

namespace {

std::string part(std::string const& channel, std::uint64_t offset, std::int64_t ts, std::int64_t at,
                 std::string const& body) {
    return channel + "\n" + std::to_string(offset) + "\n" + std::to_string(ts) + "\n" + std::to_string(at) + "\n" +
           std::to_string(body.size()) + "\n" + body;
}

redis_reply entry(std::string id, std::string ts, std::string at, std::string body) {
    return array({bulk(std::move(id)), array({bulk("ts"), bulk(std::move(ts)), bulk("at"), bulk(std::move(at)),
                                              bulk("body"), bulk(std::move(body))})});
}

}  // namespace

TEST_CASE("redis_wire_format: a published transaction, parts back to back", "[redis][wire]") {
    // Bodies may hold newlines and digits: only their byte count delimits them.
    std::string const body1 = R"({"payload":{"a":"x\ny"}})";
    std::string const body2 = "{}\n12\n";
    auto records = redis_wire_format::decode_transaction(part("/buckets/b/collections/c", 7, 1717, 1700, body1) +
                                                         part("/buckets", 12, -5, 1701, body2));
    REQUIRE(records);
    REQUIRE(records->size() == 2);
    CHECK((*records)[0].channel == "/buckets/b/collections/c");
    CHECK((*records)[0].offset == 7);
    CHECK((*records)[0].timestamp == 1717);
    CHECK((*records)[0].stored_at_ms == 1700);
    CHECK((*records)[0].body == body1);
    CHECK((*records)[1].offset == 12);
    CHECK((*records)[1].timestamp == -5);
    CHECK((*records)[1].body == body2);
    CHECK(redis_wire_format::decode_transaction("")->empty());
}

TEST_CASE("redis_wire_format: malformed transactions are refused whole", "[redis][wire]") {
    auto const good = part("/buckets", 1, 2, 3, "{}");
    CHECK_FALSE(redis_wire_format::decode_transaction(good + "/buckets\n2\n"));            // truncated header
    CHECK_FALSE(redis_wire_format::decode_transaction("/buckets\n1\n2\n3\n10\n{}"));      // body shorter than said
    CHECK_FALSE(redis_wire_format::decode_transaction("/buckets\n0\n2\n3\n2\n{}"));       // offset 0
    CHECK_FALSE(redis_wire_format::decode_transaction("/buckets\nx\n2\n3\n2\n{}"));       // not a number
    CHECK_FALSE(redis_wire_format::decode_transaction("\n1\n2\n3\n2\n{}"));               // no channel
}

TEST_CASE("redis_wire_format: a dedupe value lists the event's offsets", "[redis][wire]") {
    auto offsets = redis_wire_format::decode_offsets("3 /buckets/b/collections/c\n3 /buckets/b\n9 /buckets\n");
    REQUIRE(offsets);
    CHECK(*offsets == std::vector<channel_offset>{{"/buckets/b/collections/c", 3}, {"/buckets/b", 3}, {"/buckets", 9}});
    CHECK(redis_wire_format::decode_offsets("")->empty());
    CHECK_FALSE(redis_wire_format::decode_offsets("3 /buckets"));     // no final newline
    CHECK_FALSE(redis_wire_format::decode_offsets("x /buckets\n"));
    CHECK_FALSE(redis_wire_format::decode_offsets("3\n"));
    CHECK_FALSE(redis_wire_format::decode_offsets("3 \n"));
}

TEST_CASE("redis_wire_format: stream IDs are OFFSET-0", "[redis][wire]") {
    CHECK(redis_wire_format::offset_of("42-0") == 42u);
    CHECK_FALSE(redis_wire_format::offset_of("42-1"));
    CHECK_FALSE(redis_wire_format::offset_of("42"));
    CHECK_FALSE(redis_wire_format::offset_of("-0"));
}

TEST_CASE("redis_wire_format: XRANGE entries become records; anything else is refused", "[redis][wire]") {
    auto records = redis_wire_format::decode_entries(
        "/buckets", array({entry("4-0", "1717", "1700", R"({"payload":{}})"), entry("5-0", "1718", "1701", "{}")}));
    REQUIRE(records);
    REQUIRE(records->size() == 2);
    CHECK((*records)[0].channel == "/buckets");
    CHECK((*records)[0].offset == 4);
    CHECK((*records)[0].timestamp == 1717);
    CHECK((*records)[0].stored_at_ms == 1700);
    CHECK((*records)[0].body == R"({"payload":{}})");
    CHECK((*records)[1].offset == 5);
    CHECK(redis_wire_format::decode_entries("/buckets", array({}))->empty());

    CHECK_FALSE(redis_wire_format::decode_entries("/buckets", bulk("OK")));
    CHECK_FALSE(redis_wire_format::decode_entries("/buckets", array({entry("4-1", "1", "1", "{}")})));
    CHECK_FALSE(redis_wire_format::decode_entries("/buckets", array({entry("4-0", "x", "1", "{}")})));
    auto missing_body = array({array({bulk("4-0"), array({bulk("ts"), bulk("1"), bulk("at"), bulk("1")})})});
    CHECK_FALSE(redis_wire_format::decode_entries("/buckets", missing_body));
}
