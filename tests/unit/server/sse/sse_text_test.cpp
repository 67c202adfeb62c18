#include "server/sse/sse_text.hpp"

#include "channels/message.hpp"
#include "session/close_code.hpp"

#include <catch2/catch.hpp>

namespace sse_text = kp::server::sse_text;
namespace close_code = kp::session::close_code;
using json = nlohmann::ordered_json;

TEST_CASE("SSE texts: start, ping, subscribed, event end, error", "[sse]") {
    CHECK(*sse_text::stream_start() == "retry: 2000\n\n");
    CHECK(*sse_text::ping() == ": ping\n\n");
    json reply{{"type", "subscribed"}, {"channel", "/buckets/b"}, {"epoch", "e1"}, {"offset", 4},
               {"recovered", true},    {"id", "ignored"}};
    CHECK(sse_text::subscribed(reply) ==
          "event: subscribed\ndata: {\"channel\":\"/buckets/b\",\"epoch\":\"e1\",\"offset\":4,\"recovered\":true}\n\n");
    CHECK(sse_text::event_end("e1_4") == "id: e1_4\n\n");
    // A message with a line break stays on one data line.
    CHECK(sse_text::error("too_slow", "a\nb") == "event: error\ndata: {\"code\":\"too_slow\",\"message\":\"a\\nb\"}\n\n");
}

TEST_CASE("SSE error codes and refusal statuses", "[sse]") {
    CHECK(std::string(sse_text::error_code(close_code::too_slow)) == "too_slow");
    CHECK(std::string(sse_text::error_code(close_code::unauthorized)) == "unauthorized");
    CHECK(std::string(sse_text::error_code(close_code::going_away)) == "shutdown");
    CHECK(std::string(sse_text::error_code(close_code::internal_error)) == "internal");
    CHECK(sse_text::refusal_status("bad_request") == 400);
    CHECK(sse_text::refusal_status("unauthorized") == 401);
    CHECK(sse_text::refusal_status("forbidden") == 403);
    CHECK(sse_text::refusal_status("unavailable") == 503);
    CHECK(sse_text::refusal_status("internal") == 500);
    CHECK(sse_text::refusal_errno("forbidden") == 121);
}

TEST_CASE("an event's SSE data line is built once and shared", "[sse]") {
    auto m = kp::channels::message::from_record("/buckets/b", 3, 17, R"({"payload":{"x":1}})");
    auto first = m->sse_data(m);
    auto second = m->sse_data(m);
    CHECK(first.get() == second.get());
    CHECK(*first == "data: " + std::string(m->frame()) + "\n");
    CHECK(first->find('\n') == first->size() - 1);
}
