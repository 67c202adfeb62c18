// Replies parsed by hiredis's reader (redisReader), copied into owned redis_reply values:
// every RESP2 type, nesting, replies split across reads or several in one read, and bad input.

#include "store/redis_reply_reader.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::store::redis_reply;
using kp::store::redis_reply_reader;

namespace {

redis_reply parse_one(std::string const& bytes) {
    redis_reply_reader reader;
    REQUIRE(reader.feed(bytes.data(), bytes.size()));
    auto reply = reader.next();
    REQUIRE(reply);
    CHECK_FALSE(reader.next());
    CHECK_FALSE(reader.failed());
    return *reply;
}

}  // namespace

TEST_CASE("redis_reply_reader: every RESP2 type", "[redis][resp]") {
    auto status = parse_one("+OK\r\n");
    CHECK(status.type == redis_reply::kind::status);
    CHECK(status.text == "OK");

    auto error = parse_one("-NOSCRIPT No matching script\r\n");
    CHECK(error.is_error());
    CHECK(error.text == "NOSCRIPT No matching script");

    auto integer = parse_one(":-42\r\n");
    CHECK(integer.type == redis_reply::kind::integer);
    CHECK(integer.integer == -42);

    auto bulk = parse_one("$5\r\na\r\nbc\r\n");
    CHECK(bulk.type == redis_reply::kind::string);
    CHECK(bulk.text == "a\r\nbc");

    CHECK(parse_one("$-1\r\n").type == redis_reply::kind::nil);
    CHECK(parse_one("*-1\r\n").type == redis_reply::kind::nil);
    auto empty = parse_one("*0\r\n");
    CHECK(empty.type == redis_reply::kind::array);
    CHECK(empty.elements.empty());
}

TEST_CASE("redis_reply_reader: nested arrays (an XRANGE answer)", "[redis][resp]") {
    auto reply = parse_one("*1\r\n*2\r\n$3\r\n7-0\r\n*4\r\n$2\r\nts\r\n$2\r\n12\r\n$4\r\nbody\r\n$2\r\n{}\r\n");
    REQUIRE(reply.elements.size() == 1);
    auto const& entry = reply.elements[0];
    REQUIRE(entry.elements.size() == 2);
    CHECK(entry.elements[0].text == "7-0");
    REQUIRE(entry.elements[1].elements.size() == 4);
    CHECK(entry.elements[1].elements[3].text == "{}");
}

TEST_CASE("redis_reply_reader: a reply split across reads, byte by byte", "[redis][resp]") {
    std::string const bytes = "*3\r\n$7\r\nmessage\r\n$9\r\nkp:events\r\n$3\r\nabc\r\n";
    redis_reply_reader reader;
    for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
        REQUIRE(reader.feed(&bytes[i], 1));
        REQUIRE_FALSE(reader.next());
    }
    REQUIRE(reader.feed(&bytes.back(), 1));
    auto reply = reader.next();
    REQUIRE(reply);
    REQUIRE(reply->elements.size() == 3);
    CHECK(reply->elements[2].text == "abc");
}

TEST_CASE("redis_reply_reader: several replies in one read come out in order", "[redis][resp]") {
    std::string const bytes = "+OK\r\n:1\r\n$1\r\nx\r\n";
    redis_reply_reader reader;
    REQUIRE(reader.feed(bytes.data(), bytes.size()));
    CHECK(reader.next()->text == "OK");
    CHECK(reader.next()->integer == 1);
    CHECK(reader.next()->text == "x");
    CHECK_FALSE(reader.next());
}

TEST_CASE("redis_reply_reader: bytes that are not RESP fail the reader for good", "[redis][resp]") {
    redis_reply_reader reader;
    std::string const bytes = "HTTP/1.1 400 Bad Request\r\n";
    REQUIRE(reader.feed(bytes.data(), bytes.size()));
    CHECK_FALSE(reader.next());
    CHECK(reader.failed());
    CHECK_FALSE(reader.error().empty());
    CHECK_FALSE(reader.feed("+OK\r\n", 5));
    CHECK_FALSE(reader.next());
}
