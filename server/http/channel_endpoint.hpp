#pragma once
// GET /v1/channels?prefix=P[&limit=N] and GET /v1/channels/{channel} (PROTOCOL.md section 8):
// what the history holds of each channel and how many connections listen to it, for
// operators. Admin credentials (server/access/admin_access): 401 without valid ones, 403 for a
// valid JWT without `webhooks: true`; a JWT with it sees only the channels its patterns cover.
//
// One channel's answer:
//   {"channel","epoch","first_offset","last_offset","last_timestamp","events",
//    "subscribers":{"node":N,"cluster":M|null}}
// first_offset: the oldest offset kept (0 when none); last_offset: the last offset given (0
// for a channel never published to); last_timestamp: the Kinto timestamp of the last kept
// event (0 when none); events: how many are kept; node: WebSocket and SSE connections
// subscribed to exactly this channel on this node; cluster: on every node, or null without a
// cluster (server_context::cluster_subscriber_totals). A valid channel never seen answers
// 200 with zeros. The listing: {"channels":[answers…],"more":bool}.

#include "server/http/channel_query.hpp"
#include "server/http/http_exchange.hpp"
#include "server/server_context.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kp::server {

class channel_endpoint {
public:
    explicit channel_endpoint(server_context& context) : context_(context) {}

    // Credentials, then the request, at once; the reads on the blocking pool.
    void handle(http_request const& request, http_peer const& peer, http_responder respond) const;

private:
    // Run on the blocking pool: the store may touch the disk or the network.
    http_response answer(channel_query const& query, admin_access::caller const& who, unsigned version,
                         bool keep_alive) const;
    std::vector<nlohmann::ordered_json> describe(std::vector<std::string> const& channels) const;

    server_context& context_;
};

}  // namespace kp::server
