#pragma once
// One attempt at delivering a webhook's body, as GET /v1/webhooks/{id}/deliveries lists it.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace kp::webhooks {

struct delivery_attempt {
    std::int64_t time_ms = 0;   // when the attempt started (Unix milliseconds)
    std::string channel;
    std::uint64_t first = 0;    // offsets carried (a resync: the first event after it)
    std::uint64_t last = 0;
    std::string type;           // kinto.event, kinto.events or kinto.resync
    std::string delivery_id;    // the webhook-id header
    unsigned status = 0;        // the HTTP status; 0: no HTTP answer (see error)
    std::string error;          // why it failed without an answer, or ""
    std::int64_t duration_ms = 0;

    // {"time" (ISO 8601), "channel", "first", "last", "type", "delivery_id",
    //  "status" (null without an answer), "error" (null when none), "duration_ms"}
    nlohmann::ordered_json to_json() const;
};

}  // namespace kp::webhooks
