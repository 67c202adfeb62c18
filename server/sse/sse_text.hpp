#pragma once
// The texts of a Server-Sent Events stream (PROTOCOL.md section 6; the event-stream format of
// the HTML standard), and how the subscription core's answers map onto them. Socket-free.
// An event's data line is built once per message and shared (channels::message::sse_data);
// what is written here is per stream and small.

#include "session/send_queue.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace kp::server::sse_text {

// After the response head: the reconnection delay EventSource waits after a drop (2 s).
session::frame_ptr const& stream_start();
// A comment line that keeps the stream (and the proxies on its way) alive.
session::frame_ptr const& ping();
// `event: subscribed` from the core's `subscribed` reply: {"channel","epoch","offset","recovered"}.
std::string subscribed(nlohmann::ordered_json const& reply);
// `event: error` / `data: {"code","message"}`, the stream's last message.
std::string error(std::string_view code, std::string_view message);
// `event: error` / `data: {"code":"forbidden","channel","message"}`: Kinto no longer allows
// `channel`; no event of it follows (the stream's other channels carry on).
std::string revoked(std::string_view channel);
// The stream's error code for a connection's close code (session/close_code.hpp): too_slow,
// unauthorized, shutdown or internal.
char const* error_code(std::uint16_t close_code);
// The HTTP status refusing a stream whose subscribe got error `code` (PROTOCOL.md section 3's
// codes), and the Kinto errno that goes with it.
unsigned refusal_status(std::string_view code);
int refusal_errno(std::string_view code);

}  // namespace kp::server::sse_text
