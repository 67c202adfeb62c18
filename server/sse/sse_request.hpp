#pragma once
// GET /v1/sse's request (PROTOCOL.md section 6) read into what the stream subscribes to, in the
// query's order, or the reason it is refused (400). Socket-free: the session checks the rest
// (credentials, origin, the connection cap) and asks the subscription core for each channel.
//
// Query: `channel` (repeated, 1 to max_subscriptions, no duplicate), `access_token`,
// `last_event_id` (the `Last-Event-ID` header wins when both are sent: the browser's is the
// newer), `since_timestamp` (collection channels only). Other parameters are ignored (cache
// busters, proxies' own).

#include "session/client_frame.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kp::server {

struct sse_request {
    // One subscribe per channel, in the query's order (id null: no reply id).
    std::vector<session::client_frame::subscribe> subscribes;
    // The offset each channel asked to resume after, for the stream's ids until its
    // `subscribed` event is sent (sse_event_id): nullopt when it asked none (live, or
    // since_timestamp, which the reconnecting URL asks again); 0 after a foreign id.
    std::vector<std::optional<std::uint64_t>> asked;
    std::string access_token;
    // A Last-Event-ID (or last_event_id) was given but is not an id of this query: every
    // channel is subscribed with a position no history covers (recovered: false).
    bool foreign_id = false;
};

struct sse_refusal {
    std::string message;   // names the parameter: "since_timestamp: must be a non-negative integer"
};

// `target` is the request target (path and query); `last_event_id` the header's value, if any.
std::variant<sse_request, sse_refusal> parse_sse_request(std::string_view target,
                                                          std::optional<std::string_view> last_event_id,
                                                          std::size_t max_subscriptions);

}  // namespace kp::server
