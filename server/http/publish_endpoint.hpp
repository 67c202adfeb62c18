#pragma once
// POST /v1/events: the publisher's credentials (bearer secret, signature or loopback), the
// body's type, depth and JSON, then the ingest queue; answers 202 with the offsets, counted,
// timed and logged.

#include "server/http/http_exchange.hpp"
#include "server/server_context.hpp"

namespace kp::server {

class publish_endpoint {
public:
    explicit publish_endpoint(server_context& context) : context_(context) {}

    // Answers at once (a refusal), or later from the ingest thread (or, when the store appends
    // in memory, before it returns).
    void handle(http_request const& request, http_peer const& peer, http_responder respond) const;

private:
    server_context& context_;
};

}  // namespace kp::server
