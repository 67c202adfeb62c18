#pragma once
// The JSON bodies a webhook is POSTed (PROTOCOL.md section 7), written as text around the
// events' frames, which are already JSON and are copied as they are, never parsed again.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kp::webhooks {

// "2026-12-06T23:41:51.123Z": UTC, milliseconds, for any `unix_ms` (before 1970 too).
std::string iso8601_utc(std::int64_t unix_ms);

// {"type":"kinto.event","timestamp":"<now>","data":<event_frame>}
std::string event_body(std::string_view event_frame, std::int64_t now_ms);

// {"type":"kinto.events","timestamp":"<now>","data":[<frame>,<frame>,…]}
std::string batch_body(std::span<std::string_view const> frames, std::int64_t now_ms);

// {"type":"kinto.resync","timestamp":"<now>","data":{"channel":<channel>,"timestamp":<last>}}
// where `last_timestamp` is the Kinto timestamp of the last event acknowledged (0: none).
std::string resync_body(std::string_view channel, std::int64_t last_timestamp, std::int64_t now_ms);

}  // namespace kp::webhooks
