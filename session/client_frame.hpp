#pragma once
// The text frames a WebSocket client sends (PROTOCOL.md section 3), parsed and validated
// without a socket or a session: what the frame asks for, an error to answer (echoing its
// id), or a reason to close the connection with 4000. websocket_session acts on the result;
// the checks that depend on the connection (already subscribed, too many subscriptions,
// authorization) stay there. Fuzzed by fuzz/websocket_frame.cpp.

#include "channels/channel_hub.hpp"
#include "channels/channel_name.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace kp::session::client_frame {

// Not a JSON object (or nested deeper than channels::max_json_depth, checked on the raw text
// before parsing): the connection is closed with 4000.
struct protocol_violation {
    std::string reason;
};

// A frame that is an object but asks for nothing valid: answered with an `error` frame.
struct bad_request {
    nlohmann::ordered_json id;   // null, a string or an integer
    std::string code;            // "bad_request"
    std::string message;         // names the field: "since.offset: must be a non-negative integer"
};

struct subscribe {
    nlohmann::ordered_json id;
    std::string channel;   // a valid channel name
    channels::channel_name::kind kind = channels::channel_name::kind::firehose;
    std::optional<std::int64_t> since_timestamp;             // >= 0, collection channels only
    std::optional<channels::since_position> since_position;
};

struct unsubscribe {
    nlohmann::ordered_json id;
    std::string channel;   // as sent: a name never subscribed is answered not_found
};

struct ping {
    nlohmann::ordered_json id;
};

struct auth {
    nlohmann::ordered_json id;
    std::string token;
};

using parsed = std::variant<protocol_violation, bad_request, subscribe, unsubscribe, ping, auth>;

parsed parse(std::string_view text);

}  // namespace kp::session::client_frame
