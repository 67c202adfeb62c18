// session::client_frame: the parsing and validation of clients' WebSocket text frames
// (PROTOCOL.md section 3), without a session. Also the regression tests of what fuzzing
// found (fuzz/websocket_frame.cpp).

#include "session/client_frame.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace cf = kp::session::client_frame;
using kind = kp::channels::channel_name::kind;

namespace {

template <class T>
T as(cf::parsed const& p) {
    REQUIRE(std::holds_alternative<T>(p));
    return std::get<T>(p);
}

std::string error_of(std::string const& text) {
    return as<cf::bad_request>(cf::parse(text)).message;
}

}  // namespace

TEST_CASE("client frames: subscribe with and without since", "[client_frame]") {
    auto const live = as<cf::subscribe>(cf::parse(R"({"type":"subscribe","id":"1","channel":"/buckets/b"})"));
    CHECK(live.id == "1");
    CHECK(live.channel == "/buckets/b");
    CHECK(live.kind == kind::bucket);
    CHECK_FALSE(live.since_timestamp);
    CHECK_FALSE(live.since_position);

    auto const position = as<cf::subscribe>(
        cf::parse(R"({"type":"subscribe","id":7,"channel":"/buckets","since":{"epoch":"e1","offset":42}})"));
    CHECK(position.id == 7);
    REQUIRE(position.since_position);
    CHECK(position.since_position->epoch == "e1");
    CHECK(position.since_position->offset == 42);

    auto const at = as<cf::subscribe>(
        cf::parse(R"({"type":"subscribe","channel":"/buckets/b/collections/c","since":{"timestamp":1717000000123}})"));
    CHECK(at.id.is_null());
    CHECK(at.kind == kind::collection);
    REQUIRE(at.since_timestamp);
    CHECK(*at.since_timestamp == 1717000000123);

    auto const null_since = as<cf::subscribe>(cf::parse(R"({"type":"subscribe","channel":"/buckets","since":null})"));
    CHECK_FALSE(null_since.since_position);

    auto const biggest = as<cf::subscribe>(cf::parse(
        R"({"type":"subscribe","channel":"/buckets","since":{"epoch":"e","offset":18446744073709551615}})"));
    CHECK(biggest.since_position->offset == 18446744073709551615ull);
}

TEST_CASE("client frames: bad subscribe frames name the field and echo the id", "[client_frame]") {
    CHECK(error_of(R"({"type":"subscribe"})") == "channel: is required");
    CHECK(error_of(R"({"type":"subscribe","channel":5})") == "channel: is required");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets/a b"})") == "channel: not a channel name (" + std::string(kp::channels::channel_name::grammar) + ")");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets","since":3})") == "since: must be an object");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets","since":{}})") == "since.epoch: is required (a string)");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets","since":{"epoch":"e"}})") ==
          "since.offset: must be a non-negative integer");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets","since":{"epoch":"e","offset":-1}})") ==
          "since.offset: must be a non-negative integer");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets","since":{"epoch":"e","offset":1.5}})") ==
          "since.offset: must be a non-negative integer");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets","since":{"timestamp":1}})") ==
          "since.timestamp: only on collection channels");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets/b/collections/c","since":{"timestamp":-5}})") ==
          "since.timestamp: must be a non-negative integer");

    auto const answer = as<cf::bad_request>(cf::parse(R"({"type":"subscribe","id":"x9"})"));
    CHECK(answer.id == "x9");
    CHECK(answer.code == "bad_request");
}

// Found while factoring the parser out for fuzzing (fuzz/websocket_frame checks that a parsed
// since.timestamp is never negative): a since.timestamp above 2^63-1 was read as a negative
// timestamp (2^64-1 became -1), which resumed from the start of the history instead of being
// refused. Corpus file: fuzz/corpus/websocket_frame/regression-timestamp-over-int64.
TEST_CASE("client frames: a since.timestamp beyond a signed 64-bit integer is a bad request", "[client_frame]") {
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets/b/collections/c","since":{"timestamp":18446744073709551615}})") ==
          "since.timestamp: must be a non-negative integer");
    CHECK(error_of(R"({"type":"subscribe","channel":"/buckets/b/collections/c","since":{"timestamp":9223372036854775808}})") ==
          "since.timestamp: must be a non-negative integer");
    auto const largest = as<cf::subscribe>(cf::parse(
        R"({"type":"subscribe","channel":"/buckets/b/collections/c","since":{"timestamp":9223372036854775807}})"));
    CHECK(*largest.since_timestamp == 9223372036854775807);
}

TEST_CASE("client frames: unsubscribe, ping, auth", "[client_frame]") {
    auto const un = as<cf::unsubscribe>(cf::parse(R"({"type":"unsubscribe","id":"2","channel":"not a channel"})"));
    CHECK(un.channel == "not a channel");   // answered not_found by the session
    CHECK(error_of(R"({"type":"unsubscribe"})") == "channel: is required");
    CHECK(as<cf::ping>(cf::parse(R"({"type":"ping","id":3})")).id == 3);
    CHECK(as<cf::auth>(cf::parse(R"({"type":"auth","token":"a.b.c"})")).token == "a.b.c");
    CHECK(error_of(R"({"type":"auth","token":null})") == "token: is required");
}

TEST_CASE("client frames: type and id", "[client_frame]") {
    CHECK(error_of(R"({"id":"1"})") == "type: is required");
    CHECK(error_of(R"({"type":1})") == "type: is required");
    CHECK(error_of(R"({"type":"publish","id":"1"})") == "type: unknown type 'publish'");
    auto const bad_id = as<cf::bad_request>(cf::parse(R"({"type":"ping","id":[1]})"));
    CHECK(bad_id.message == "id: must be a string or an integer");   // the protocol allows both
    CHECK(bad_id.id.is_null());
    CHECK(error_of(R"({"type":"ping","id":1.5})") == "id: must be a string or an integer");
    CHECK(as<cf::ping>(cf::parse(R"({"type":"ping","id":-4})")).id == -4);
    CHECK(as<cf::ping>(cf::parse(R"({"type":"ping","id":18446744073709551615})")).id == 18446744073709551615ull);
}

TEST_CASE("client frames: what is not a JSON object closes the connection", "[client_frame]") {
    CHECK(as<cf::protocol_violation>(cf::parse("not json")).reason == "frame is not JSON");
    CHECK(as<cf::protocol_violation>(cf::parse("")).reason == "frame is not JSON");
    CHECK(as<cf::protocol_violation>(cf::parse("[1,2]")).reason == "frame is not a JSON object");
    CHECK(as<cf::protocol_violation>(cf::parse("\"x\"")).reason == "frame is not a JSON object");
    std::string const deep = std::string(65, '[') + std::string(65, ']');
    CHECK(as<cf::protocol_violation>(cf::parse(deep)).reason == "JSON nested deeper than 64 levels");
    std::string const at_limit = "{\"a\":" + std::string(63, '[') + std::string(63, ']') + "}";
    CHECK(error_of(at_limit) == "type: is required");
}
