// What a GET /v1/sse stream knows apart from its socket: whether it starts (every subscribe
// answered) or is refused (the first refusal, naming its channel), and the position its `id:`
// lines carry, channel by channel.

#include "server/sse/sse_stream_state.hpp"

#include "server/http/http_responses.hpp"
#include "server/sse/sse_event_id.hpp"
#include "session/close_code.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::server::sse_event_id;
using kp::server::sse_request;
using kp::server::sse_stream_state;
namespace close_code = kp::session::close_code;
namespace kinto_errno = kp::server::kinto_errno;

namespace {

// Three channels: the first asked to resume after 41, the second nothing, the third after 7.
sse_stream_state three_channels() {
    sse_request request;
    for (char const* channel : {"/buckets/a", "/buckets/b", "/buckets/c"}) {
        request.subscribes.emplace_back();
        request.subscribes.back().channel = channel;
    }
    request.asked = {41, std::nullopt, 7};
    return sse_stream_state(request);
}

}  // namespace

TEST_CASE("sse_stream_state: ids carry what was asked, then the subscription's start, then events",
          "[sse][sse_stream_state]") {
    auto state = three_channels();
    CHECK(state.channels() == std::vector<std::string>{"/buckets/a", "/buckets/b", "/buckets/c"});
    // Before any `subscribed`: no epoch yet, each channel at what it asked.
    CHECK(state.id_lines() == "id: _41__7\n\n");

    state.subscribed("/buckets/b", "e1", 12);
    CHECK(state.epoch() == "e1");
    CHECK(state.id_lines() == "id: e1_41_12_7\n\n");
    // The first `subscribed`'s epoch is the stream's.
    state.subscribed("/buckets/a", "e2", 40);
    CHECK(state.epoch() == "e1");
    CHECK(state.id_lines() == "id: e1_40_12_7\n\n");

    state.moved("/buckets/a", 43);
    state.moved("/buckets/c", 9);
    state.moved("/buckets/elsewhere", 99);   // not one of the stream's: nothing moves
    CHECK(state.id_lines() == "id: e1_43_12_9\n\n");
    // What the browser sends back reads as the same position.
    auto const lines = state.id_lines();
    auto position = sse_event_id::parse(std::string_view(lines).substr(4, lines.size() - 6), 3);
    REQUIRE(position);
    CHECK(position->epoch == "e1");
    CHECK(position->offsets == std::vector<std::optional<std::uint64_t>>{43, 12, 9});
}

TEST_CASE("sse_stream_state: the stream starts once every subscribe is answered", "[sse][sse_stream_state]") {
    auto state = three_channels();
    CHECK_FALSE(state.decided());
    state.subscribed("/buckets/a", "e1", 41);
    state.subscribed("/buckets/b", "e1", 3);
    CHECK_FALSE(state.decided());
    state.subscribed("/buckets/c", "e1", 7);
    CHECK(state.decided());
    CHECK_FALSE(state.refused());
    // A late error (all answered) refuses nothing.
    state.subscribe_failed("forbidden", "no");
    CHECK_FALSE(state.refused());
}

TEST_CASE("sse_stream_state: the first subscribe error refuses the stream, naming its channel",
          "[sse][sse_stream_state]") {
    auto state = three_channels();
    state.subscribed("/buckets/a", "e1", 41);
    // Answers come in the query's order: this error is the second channel's.
    state.subscribe_failed("forbidden", "not allowed");
    CHECK(state.decided());
    REQUIRE(state.refused());
    CHECK(state.refused()->status == 403);
    CHECK(state.refused()->errno_value == kinto_errno::forbidden);
    CHECK(state.refused()->message == "/buckets/b: not allowed");
    // The first refusal stays.
    state.subscribe_failed("unavailable", "Kinto is away");
    state.closed_before_start(close_code::unauthorized, "expired");
    CHECK(state.refused()->status == 403);
    CHECK(state.refused()->message == "/buckets/b: not allowed");
}

TEST_CASE("sse_stream_state: a close before the stream starts is an HTTP refusal", "[sse][sse_stream_state]") {
    auto unauthorized = three_channels();
    unauthorized.closed_before_start(close_code::unauthorized, "credentials expired");
    CHECK(unauthorized.decided());
    REQUIRE(unauthorized.refused());
    CHECK(unauthorized.refused()->status == 401);
    CHECK(unauthorized.refused()->errno_value == kinto_errno::invalid_auth_token);
    CHECK(unauthorized.refused()->message == "credentials expired");

    auto shutdown = three_channels();
    shutdown.closed_before_start(close_code::going_away, "server shutting down");
    REQUIRE(shutdown.refused());
    CHECK(shutdown.refused()->status == 503);
    CHECK(shutdown.refused()->errno_value == kinto_errno::backend);
    CHECK(shutdown.refused()->message == "server shutting down");
}
