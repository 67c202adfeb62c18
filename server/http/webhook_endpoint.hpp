#pragma once
// The HTTP side of /v1/webhooks (PROTOCOL.md section 7): the path and method, the admin
// credentials (server/access/admin_access), the JSON body; the work itself is
// server/webhooks/webhook_admin's, on the blocking pool.

#include "server/http/http_exchange.hpp"
#include "server/server_context.hpp"

namespace kp::server {

class webhook_admin;

class webhook_endpoint {
public:
    explicit webhook_endpoint(server_context& context) : context_(context) {}

    // True when `path` is /v1/webhooks or below it.
    static bool serves(std::string const& path);
    void handle(http_request const& request, http_peer const& peer, std::string const& path, http_responder respond) const;

    // Webhook bodies are small: a larger one is refused with 413 before it is parsed.
    static constexpr std::size_t max_body_bytes = 64 * 1024;

private:
    server_context& context_;
};

}  // namespace kp::server
