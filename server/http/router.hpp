#pragma once
// Answers every plain HTTP request (everything but the WebSocket upgrade): it dispatches
// publishing, the history and the channel information to their endpoints and answers the
// service endpoints and the web demo itself. With --cors-origins it answers CORS preflights
// and adds the CORS fields to every answer on a CORS path (server/http/cors_policy).

#include "server/http/channel_endpoint.hpp"
#include "server/http/history_endpoint.hpp"
#include "server/http/http_exchange.hpp"
#include "server/http/publish_endpoint.hpp"
#include "server/server_context.hpp"

#include <nlohmann/json.hpp>

namespace kp::server {

class router {
public:
    using responder = http_responder;

    // What an address serves: everything (--listen), or only /metrics and the Dockerflow
    // endpoints (--metrics-listen).
    enum class scope { everything, metrics_only };

    explicit router(server_context& context, scope what = scope::everything)
        : context_(context), scope_(what), publish_(context), history_(context), channels_(context) {}

    // False on the metrics address: WebSocket upgrades are not taken there.
    bool serves_websocket() const { return scope_ == scope::everything; }

    // Answers at once, or later from the ingest thread or the blocking pool (publishing,
    // history, heartbeat).
    void handle(http_request const& request, http_peer const& peer, responder respond) const;

private:
    http_response info(http_request const& request) const;
    nlohmann::json capabilities() const;

    server_context& context_;
    scope scope_;
    publish_endpoint publish_;
    history_endpoint history_;
    channel_endpoint channels_;
};

}  // namespace kp::server
