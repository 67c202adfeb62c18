// bench/loadgen bench_payload and the two protocols' frame decoding: the numbers are found by a
// scan, wherever the server put the object and in whatever key order.

#include "bench/loadgen/bench_payload.hpp"
#include "bench/loadgen/kinto_push_protocol.hpp"
#include "bench/loadgen/nchan_protocol.hpp"
#include "bench/loadgen/record_payload.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace kp::loadgen;

TEST_CASE("the payload has the asked size and carries its numbers", "[loadgen]") {
    auto const p = bench_payload::make(1'000'003, 42, 123'456'789'012, 128);
    CHECK(p.size() == 128);
    auto const j = nlohmann::json::parse(p);
    CHECK(j["lg_ch"] == 1'000'003);
    CHECK(j["lg_seq"] == 42);
    CHECK(j["lg_ts"] == 123'456'789'012);
    bench_fields f;
    REQUIRE(bench_payload::scan(p, f));
    CHECK(f.channel == 1'000'003);
    CHECK(f.seq == 42);
    CHECK(f.sent_ns == 123'456'789'012);
}

TEST_CASE("the scan finds the numbers in any key order, and says when one is missing", "[loadgen]") {
    bench_fields f;
    CHECK(bench_payload::scan(R"({"a":{"lg_ts": 9,"pad":"x","lg_seq":8,"lg_ch":7}})", f));
    CHECK(f.channel == 7);
    CHECK(f.seq == 8);
    CHECK(f.sent_ns == 9);
    bench_fields g;
    CHECK_FALSE(bench_payload::scan(R"({"lg_ch":1,"lg_seq":2})", g));
    bench_fields h;
    CHECK_FALSE(bench_payload::scan(R"({"lg_ch":"x","lg_seq":2,"lg_ts":3})", h));
}

TEST_CASE("kinto-push: a published event decodes back from the server's frame", "[loadgen]") {
    kinto_push_protocol const protocol("");
    auto const payload = bench_payload::make(3, 5, 777, 128);
    auto const req = protocol.publish("c003", payload, "1-0-9");
    CHECK(req.target == "/v1/events");
    CHECK(req.authorization.empty());
    auto const body = nlohmann::json::parse(req.body);
    CHECK(body["payload"]["collection_id"] == "c003");
    CHECK(body["payload"]["record_id"] == "r1-0-9");
    CHECK(body["impacted_objects"][0]["new"]["lg"]["lg_seq"] == 5);
    // the server's frame: type, channel, offset, timestamp, then the body's members (keys sorted)
    std::string const frame = R"({"type":"event","channel":"/buckets/bench/collections/c003","offset":17,"timestamp":1,)" +
                              body.dump().substr(1);
    auto const f = protocol.decode(frame);
    CHECK(f.type == received_frame::kind::event);
    CHECK(f.offset == 17);
    CHECK(f.fields.channel == 3);
    CHECK(f.fields.seq == 5);
    CHECK(f.fields.sent_ns == 777);
    auto const s = protocol.decode(R"({"channel":"/x","epoch":"e1","id":"1","offset":4,"recovered":true,"type":"subscribed"})");
    CHECK(s.type == received_frame::kind::subscribed);
    REQUIRE(s.position);
    CHECK(s.position->epoch == "e1");
    CHECK(s.position->offset == 4);
    CHECK(s.recovered);
    CHECK(kinto_push_protocol("s3cret").publish("c000", payload, "u").authorization == "Bearer s3cret");
}

TEST_CASE("nchan: the message follows the ws+meta.nchan headers", "[loadgen]") {
    nchan_protocol const protocol;
    CHECK(protocol.subscribe_target("c012") == "/sub/c012");
    CHECK(protocol.publish("c012", "{}", "").target == "/pub/c012");
    auto const f = protocol.decode("id: 1795815209:0\ncontent-type: application/json\n\n" + bench_payload::make(12, 2, 3, 64));
    CHECK(f.type == received_frame::kind::event);
    CHECK(f.fields.channel == 12);
    CHECK(f.fields.seq == 2);
    CHECK(protocol.decode("id: 1:0\n\nnot ours").type == received_frame::kind::other);
}

TEST_CASE("record payloads: typical and large are realistic JSON records carrying the numbers", "[loadgen]") {
    auto const typical = record_payload::make(payload_kind::typical, 2, 9, 1234);
    auto const large = record_payload::make(payload_kind::large, 2, 9, 1234);
    CHECK(typical.size() > 150);
    CHECK(typical.size() < 400);
    CHECK(large.size() > record_payload::large_bytes - 512);
    CHECK(large.size() <= record_payload::large_bytes);
    for (auto const* p : {&typical, &large}) {
        auto const j = nlohmann::json::parse(*p);
        CHECK(j["lg_seq"] == 9);
        bench_fields f;
        REQUIRE(bench_payload::scan(*p, f));
        CHECK(f.channel == 2);
        CHECK(f.sent_ns == 1234);
    }
    CHECK(nlohmann::json::parse(large)["items"].size() > 50);
    // deterministic, and different from one event to the next
    CHECK(record_payload::make(payload_kind::large, 2, 9, 1234) == large);
    CHECK(record_payload::make(payload_kind::large, 2, 10, 1234) != large);
}

TEST_CASE("nchan with record payloads is sent kinto-push's record event", "[loadgen]") {
    auto const payload = record_payload::make(payload_kind::typical, 1, 1, 1);
    auto const shaped = nchan_protocol(true).publish("c001", payload, "u1");
    auto const body = nlohmann::json::parse(shaped.body);
    CHECK(body["payload"]["record_id"] == "ru1");
    CHECK(body["impacted_objects"][0]["new"]["lg"]["lg_ch"] == 1);
    CHECK(nchan_protocol().publish("c001", payload, "u1").body == payload);
}
