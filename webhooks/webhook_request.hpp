#pragma once
// The bodies of the webhook endpoints that change something (PROTOCOL.md section 7), read and
// checked without a socket: POST /v1/webhooks, PATCH /v1/webhooks/{id} and
// POST /v1/webhooks/{id}/replay. Every refusal names the field at fault.
//
// URLs are checked only for their scheme (http:// or https://, either case) and length; the
// caller parses them fully and checks where they point.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kp::webhooks {

// A section-3 position of one channel.
struct channel_position {
    std::string epoch;
    std::uint64_t offset = 0;
};

// Where deliveries start. Absent from a request: from now on.
struct since_spec {
    std::map<std::string, channel_position> positions;  // {"<channel>": {"epoch","offset"}, …}
    std::optional<std::int64_t> timestamp;              // {"timestamp": T}, Kinto milliseconds
};

struct creation_request {
    std::string url;
    std::vector<std::string> channels;      // canonical, no duplicates, order kept
    std::optional<since_spec> since;
    std::optional<std::string> secret;      // a valid secret when given
    std::string description;
    unsigned max_batch = 1;
};

struct patch_request {
    std::optional<std::string> url;
    std::optional<std::vector<std::string>> channels;
    std::optional<std::string> description;
    std::optional<unsigned> max_batch;
    std::optional<bool> enabled;
};

// since: exactly one of positions (one entry, for `channel`) or timestamp.
struct replay_request {
    std::string channel;
    since_spec since;
};

struct request_error {
    std::string field;    // "url", "channels", "since", "secret", "description", "max_batch",
                          // "enabled", "channel"; an unknown field's own name; or "body" (not
                          // an object, nothing to change)
    std::string message;
};

struct request_limits {
    std::size_t max_channels = 256;
    std::size_t max_url_bytes = 2048;
    std::size_t max_description_bytes = 1024;
};

class webhook_request {
public:
    static std::variant<creation_request, request_error> parse_creation(nlohmann::json const& body,
                                                                        request_limits const& limits);
    static std::variant<patch_request, request_error> parse_patch(nlohmann::json const& body,
                                                                  request_limits const& limits);
    static std::variant<replay_request, request_error> parse_replay(nlohmann::json const& body);
};

}  // namespace kp::webhooks
