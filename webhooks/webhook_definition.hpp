#pragma once
// One registered webhook (PROTOCOL.md section 7): what the store keeps of it, and what the
// admin endpoints show of it. Delivery state (positions, failures) lives elsewhere.

#include "webhooks/delivery_plan.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kp::webhooks {

struct webhook_definition {
    static constexpr unsigned max_batch_limit = 100;

    std::string id;                               // "wh_" + 32 lower-case hex digits
    std::string url;
    std::vector<std::string> channels;            // canonical channel names, no duplicates, order kept
    std::string description;
    unsigned max_batch = 1;                       // 1..max_batch_limit
    bool enabled = true;
    std::optional<std::string> disabled_reason;   // nullopt while not disabled
    std::string secret;                           // "whsec_" + base64
    std::int64_t created_ms = 0;                  // Unix milliseconds
    // POST …/replay: each asks the delivering node to go back on a channel. The revision
    // counts them; a runner applies the replays newer than the revision it last saw (the
    // position is also saved, for a node that starts delivering afterwards).
    struct replay_mark {
        cursor_position at;
        std::uint64_t revision = 0;
    };
    std::uint64_t revision = 0;
    std::map<std::string, replay_mark> replays;   // by channel: the latest replay asked

    // A new random id (OpenSSL's RAND_bytes; throws std::runtime_error when it fails).
    static std::string new_id();
    // "wh_" + 32 lower-case hex digits.
    static bool valid_id(std::string_view id);

    // The JSON text the store keeps, the secret INCLUDED: never show it to anyone.
    std::string to_store_text() const;
    // Back from to_store_text(); nullopt when the text is not a valid definition (bad JSON, a
    // field missing or of the wrong type, a bad id, channel, max_batch or secret).
    static std::optional<webhook_definition> from_store_text(std::string_view text);

    // What the endpoints show, never the secret: id, url, channels, description, max_batch,
    // enabled, disabled_reason (null while not disabled), created (ISO 8601 UTC, milliseconds).
    nlohmann::ordered_json public_json() const;

private:
    nlohmann::ordered_json shared_json() const;
};

}  // namespace kp::webhooks
