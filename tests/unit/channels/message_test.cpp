// channels::message::from_record: the event frame of PROTOCOL.md section 3.

#include "channels/message.hpp"
#include "websocket/message_deflater.hpp"
#include "websocket/message_inflater.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using kp::channels::message;
using ordered = nlohmann::ordered_json;

namespace {

std::vector<std::string> keys_of(ordered const& object) {
    std::vector<std::string> keys;
    for (auto it = object.begin(); it != object.end(); ++it) keys.push_back(it.key());
    return keys;
}

}  // namespace

TEST_CASE("the frame is type, channel, offset, timestamp, then the body's members", "[message]") {
    std::string const body =
        R"({"payload":{"action":"update","uri":"/buckets/b/collections/c/records/r"},)"
        R"("impacted_objects":[{"new":{"id":"r","last_modified":1717000000456}}],"extra":{"k":[1,2]}})";
    auto const m = message::from_record("/buckets/b/collections/c", 42, 1717000000456, body);
    REQUIRE(m);
    CHECK(m->channel == "/buckets/b/collections/c");
    CHECK(m->offset == 42);
    CHECK(m->timestamp == 1717000000456);

    auto const frame = ordered::parse(m->frame());   // throws if the frame is not JSON
    REQUIRE(frame.is_object());
    CHECK(keys_of(frame) ==
          std::vector<std::string>{"type", "channel", "offset", "timestamp", "payload", "impacted_objects", "extra"});
    CHECK(frame["type"] == "event");
    CHECK(frame["channel"] == "/buckets/b/collections/c");
    CHECK(frame["offset"] == 42);
    CHECK(frame["timestamp"] == 1717000000456);
    CHECK(frame["payload"] == ordered::parse(body)["payload"]);
    CHECK(frame["impacted_objects"] == ordered::parse(body)["impacted_objects"]);
    CHECK(frame["extra"] == ordered::parse(body)["extra"]);
}

TEST_CASE("large offsets and negative timestamps survive", "[message]") {
    auto const m = message::from_record("/buckets", 18446744073709551615ull, -5, R"({"payload":{}})");
    auto const frame = ordered::parse(m->frame());
    CHECK(frame["offset"].get<std::uint64_t>() == 18446744073709551615ull);
    CHECK(frame["timestamp"].get<std::int64_t>() == -5);
    CHECK(frame["payload"] == ordered::object());
}

TEST_CASE("an empty body gives a frame with the event fields only", "[message]") {
    auto const m = message::from_record("/buckets/b", 1, 2, "{}");
    auto const frame = ordered::parse(m->frame());
    CHECK(keys_of(frame) == std::vector<std::string>{"type", "channel", "offset", "timestamp"});
}

TEST_CASE("from_record of a stored event_record uses its channel, offset and timestamp", "[message]") {
    kp::store::event_record record;
    record.channel = "/buckets/b";
    record.offset = 7;
    record.timestamp = 99;
    record.stored_at_ms = 123456;
    record.body = R"({"payload":{"a":1},"impacted_objects":[]})";
    auto const m = message::from_record(record);
    CHECK(m->channel == "/buckets/b");
    CHECK(m->offset == 7);
    CHECK(m->timestamp == 99);
    auto const frame = ordered::parse(m->frame());
    CHECK(frame["channel"] == "/buckets/b");
    CHECK(frame["offset"] == 7);
    CHECK(frame["timestamp"] == 99);
    CHECK(frame["payload"]["a"] == 1);
    CHECK(frame["impacted_objects"] == ordered::array());
    CHECK_FALSE(frame.contains("stored_at_ms"));
}

TEST_CASE("the frame's header announces exactly the text that follows, at every header size", "[message]") {
    // Text lengths around the 7-bit, 16-bit and 64-bit length forms of RFC 6455 section 5.2.
    for (std::size_t pad : {0u, 60u, 70u, 100u, 65'400u, 65'500u, 70'000u}) {
        std::string const body = R"({"payload":{"pad":")" + std::string(pad, 'x') + R"("}})";
        auto const m = message::from_record("/buckets/b", 1, 2, body);
        auto const& wire = m->wire;
        REQUIRE(wire.size() > m->header_size);
        std::size_t const text = wire.size() - m->header_size;
        CHECK(m->frame().size() == text);
        CHECK(static_cast<unsigned char>(wire[0]) == 0x81);   // FIN, text
        std::size_t announced = static_cast<unsigned char>(wire[1]) & 0x7f;
        if (announced == 126) {
            REQUIRE(m->header_size == 4);
            announced = (static_cast<std::size_t>(static_cast<unsigned char>(wire[2])) << 8) |
                        static_cast<unsigned char>(wire[3]);
        } else if (announced == 127) {
            REQUIRE(m->header_size == 10);
            announced = 0;
            for (int i = 2; i < 10; ++i) announced = (announced << 8) | static_cast<unsigned char>(wire[i]);
        } else {
            REQUIRE(m->header_size == 2);
        }
        CHECK(announced == text);
        CHECK(ordered::parse(m->frame())["payload"]["pad"].get<std::string>().size() == pad);
    }
}

TEST_CASE("a channel name that needs escaping is escaped in the frame", "[message]") {
    // Channel names are validated before they get here; the frame is still valid JSON if not.
    auto const m = message::from_record("/buckets/\"q\\\x01\xc3\xa9", 3, 4, "{}");
    CHECK(ordered::parse(m->frame())["channel"] == "/buckets/\"q\\\x01\xc3\xa9");
}

TEST_CASE("the compressed frame: built once, the same text, and none for a small event", "[message][deflate]") {
    std::string body = R"({"payload":{"action":"update","uri":"/buckets/b/collections/c/records/r"},"impacted_objects":[)";
    for (int i = 0; i < 20; ++i) body += R"({"new":{"id":"r)" + std::to_string(i) + R"(","last_modified":1717000000456}},)";
    body.back() = ']';
    body += '}';
    auto const big = message::from_record("/buckets/b/collections/c", 7, 1717000000456, body);
    auto const& deflated = big->deflated();
    REQUIRE_FALSE(deflated.empty());
    CHECK(&big->deflated() == &deflated);                            // built once
    CHECK(static_cast<unsigned char>(deflated[0]) == 0xC1);          // FIN, RSV1, text
    CHECK(deflated.size() < big->wire.size());
    std::size_t const header = (deflated[1] & 0x7F) < 126 ? 2 : 4;
    auto const back = kp::websocket::message_inflater::inflate(std::string_view(deflated).substr(header), 1 << 20);
    REQUIRE(back.what == kp::websocket::message_inflater::status::ok);
    CHECK(back.text == big->frame());

    auto const small = message::from_record("/buckets/b/collections/c", 8, 1717000000456, R"({"payload":{}})");
    REQUIRE(small->frame().size() < kp::websocket::message_deflater::threshold);
    CHECK(small->deflated().empty());   // sent plain
}
