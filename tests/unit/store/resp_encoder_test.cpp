// The RESP command encoder: arrays of bulk strings, binary-safe, appended in order.

#include "store/redis_reply_reader.hpp"
#include "store/resp_encoder.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::store::redis_reply;
using kp::store::redis_reply_reader;
using kp::store::resp_encoder;

TEST_CASE("resp_encoder: a command is an array of bulk strings", "[redis][resp]") {
    CHECK(resp_encoder::encode({"PING"}) == "*1\r\n$4\r\nPING\r\n");
    CHECK(resp_encoder::encode({"SET", "k", "value"}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n");
    CHECK(resp_encoder::encode({"GET", ""}) == "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

TEST_CASE("resp_encoder: arguments are binary-safe (CRLF, NUL, UTF-8 are counted, not escaped)", "[redis][resp]") {
    std::string const tricky = std::string("a\r\nb\0c", 6) + "\xc3\xa9";
    auto const encoded = resp_encoder::encode({"ECHO", tricky});
    CHECK(encoded == "*2\r\n$4\r\nECHO\r\n$8\r\n" + tricky + "\r\n");
}

TEST_CASE("resp_encoder: commands append one after the other (pipelining)", "[redis][resp]") {
    std::string out;
    resp_encoder::append(out, {"PING"});
    resp_encoder::append(out, {"GET", "x"});
    CHECK(out == "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nx\r\n");
}

TEST_CASE("resp_encoder: what it writes is what a RESP parser reads back", "[redis][resp]") {
    // A request is itself valid RESP: hiredis's reader parses it into the same arguments.
    std::string big(100'000, 'x');
    big[50'000] = '\n';
    redis_reply_reader reader;
    auto const encoded = resp_encoder::encode({"XADD", "kp:s:/buckets", "1-0", "body", big});
    REQUIRE(reader.feed(encoded.data(), encoded.size()));
    auto reply = reader.next();
    REQUIRE(reply);
    REQUIRE(reply->type == redis_reply::kind::array);
    REQUIRE(reply->elements.size() == 5);
    CHECK(reply->elements[1].text == "kp:s:/buckets");
    CHECK(reply->elements[4].text == big);
    CHECK_FALSE(reader.next());
}
