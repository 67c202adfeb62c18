// bench/loadgen's SSE reading: the HTTP response read as it arrives (head, chunked or not),
// the event stream parsed, and the two protocols' messages decoded; every split of the bytes
// gives the same messages.

#include "bench/loadgen/event_stream_parser.hpp"
#include "bench/loadgen/http_stream_reader.hpp"
#include "bench/loadgen/kinto_push_protocol.hpp"
#include "bench/loadgen/nchan_protocol.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace kp::loadgen;

namespace {

// The body and messages of `response` fed in pieces of `step` bytes.
struct read_result {
    bool ok = true;
    unsigned status = 0;
    bool chunked = false;
    bool ended = false;
    std::vector<sse_message> messages;
};

read_result read_all(std::string const& response, std::size_t step) {
    read_result r;
    http_stream_reader reader;
    event_stream_parser parser;
    for (std::size_t at = 0; at < response.size() && r.ok; at += step) {
        std::string body;
        r.ok = reader.feed(std::string_view(response).substr(at, step), body);
        parser.feed(body, [&](sse_message const& m) { r.messages.push_back(m); });
    }
    r.status = reader.status();
    r.chunked = reader.chunked();
    r.ended = reader.ended();
    return r;
}

}  // namespace

TEST_CASE("kinto-push's stream: a plain body, subscribed then events, in any split", "[loadgen]") {
    std::string const response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
        "retry: 2000\n\n"
        "event: subscribed\ndata: {\"channel\":\"/buckets/bench/collections/c000\",\"epoch\":\"e1\",\"offset\":4,"
        "\"recovered\":false}\n\n"
        ": ping\n\n"
        "data: {\"type\":\"event\",\"channel\":\"/x\",\"offset\":5,\"lg\":{\"lg_ch\":0,\"lg_seq\":1,\"lg_ts\":9}}\n"
        "id: e1_5\n\n";
    for (std::size_t step : {1, 2, 3, 7, 64, 4096}) {
        auto const r = read_all(response, step);
        REQUIRE(r.ok);
        CHECK(r.status == 200);
        CHECK_FALSE(r.chunked);
        REQUIRE(r.messages.size() == 2);
        CHECK(r.messages[0].event == "subscribed");
        CHECK(r.messages[1].event.empty());
        CHECK(r.messages[1].id == "e1_5");

        kinto_push_protocol const protocol("");
        auto const s = protocol.decode_event(r.messages[0].event, r.messages[0].data);
        CHECK(s.type == received_frame::kind::subscribed);
        REQUIRE(s.position);
        CHECK(s.position->epoch == "e1");
        CHECK(s.offset == 4);
        CHECK_FALSE(s.recovered);
        auto const e = protocol.decode_event(r.messages[1].event, r.messages[1].data);
        CHECK(e.type == received_frame::kind::event);
        CHECK(e.offset == 5);
        CHECK(e.fields.seq == 1);
    }
}

TEST_CASE("nchan's stream: chunked, CRLF lines, multi-line data, in any split", "[loadgen]") {
    std::string const events = ": hi\r\n\r\nid: 1:0\r\ndata: {\"lg_ch\":3,\"lg_seq\":2,\"lg_ts\":7}\r\n\r\n"
                               "id: 1:1\ndata: line one\ndata: line two\n\n";
    // two chunks, the second splitting a line, with a chunk extension; then the last chunk
    std::string const a = events.substr(0, 20), b = events.substr(20);
    char sizes[64];
    std::snprintf(sizes, sizeof sizes, "%zx", a.size());
    std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                           "transfer-encoding: chunked\r\n\r\n";
    response += std::string(sizes) + "\r\n" + a + "\r\n";
    std::snprintf(sizes, sizeof sizes, "%zX;x=y", b.size());
    response += std::string(sizes) + "\r\n" + b + "\r\n0\r\n\r\n";
    for (std::size_t step : {1, 2, 5, 13, 4096}) {
        auto const r = read_all(response, step);
        REQUIRE(r.ok);
        CHECK(r.chunked);
        CHECK(r.ended);
        REQUIRE(r.messages.size() == 2);
        CHECK(r.messages[1].data == "line one\nline two");
        nchan_protocol const protocol;
        auto const f = protocol.decode_event(r.messages[0].event, r.messages[0].data);
        CHECK(f.type == received_frame::kind::event);
        CHECK(f.fields.channel == 3);
        CHECK(protocol.decode_event("", r.messages[1].data).type == received_frame::kind::other);
    }
}

TEST_CASE("a refusal's head is read; a malformed response is refused", "[loadgen]") {
    http_stream_reader reader;
    std::string body;
    REQUIRE(reader.feed("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n\r\n{\"errno\":104}", body));
    CHECK(reader.status() == 401);
    CHECK(reader.header("content-type") == "application/json");
    CHECK(body == "{\"errno\":104}");

    http_stream_reader bad;
    CHECK_FALSE(bad.feed("SSH-2.0-OpenSSH\r\n\r\n", body));
    http_stream_reader bad_chunk;
    CHECK_FALSE(bad_chunk.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", body));
    http_stream_reader endless;
    CHECK_FALSE(endless.feed("HTTP/1.1 200 OK\r\n" + std::string(20000, 'x'), body));
}

TEST_CASE("SSE targets: kinto-push's query with a resume position, nchan's location", "[loadgen]") {
    kinto_push_protocol const protocol("");
    CHECK(protocol.event_stream_target("c001", std::nullopt) == "/v1/sse?channel=/buckets/bench/collections/c001");
    CHECK(protocol.event_stream_target("c001", resume_position{"e9", 12}) ==
          "/v1/sse?channel=/buckets/bench/collections/c001&last_event_id=e9_12");
    CHECK(protocol.decode_event("error", R"({"code":"too_slow","message":"x"})").type == received_frame::kind::error);
    CHECK(nchan_protocol().event_stream_target("c001", std::nullopt) == "/sub/c001");
}
