#pragma once
// What every session shares: the settings, the hub, publisher auth, the metrics and the global
// counters.

#include "auth/publisher_auth.hpp"
#include "channels/channel_hub.hpp"
#include "channels/publish_queue.hpp"
#include "server/config/server_config.hpp"
#include "server/http/cors_policy.hpp"
#include "server/telemetry/server_metrics.hpp"
#include "server/access/admin_access.hpp"
#include "server/access/subscriber_access.hpp"
#include "server/net/tls_context_provider.hpp"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kp::server {

class broadcast_service;
class webhook_admin;

struct server_context {
    server_config const& config;
    channels::channel_hub& hub;
    auth::publisher_auth const& publishers;
    channels::publish_queue& ingest;
    subscriber_access& access;
    // --cors-origins and --allowed-origins: CORS fields, preflights, the Origin check.
    cors_policy const& cors;
    // Threads for work that may touch the disk (history reads, store probes): never a shard.
    boost::asio::thread_pool& blocking;
    // Set when --tls-cert/--tls-key are: the listener then speaks only TLS.
    tls_context_provider* tls = nullptr;
    server_metrics& metrics;
    // Set when --broadcast is: /v1/push serves the Autopush broadcast protocol.
    broadcast_service* broadcasts = nullptr;
    // /v1/webhooks (PROTOCOL.md section 7): the operations behind the endpoint.
    webhook_admin* webhooks = nullptr;
    // The admin endpoints' credentials (--admin-secret, loopback, JWTs with `webhooks: true`);
    // set by the server before serving.
    admin_access const* admin = nullptr;
    // With a cluster (Redis): the subscribers of each channel on every node, in the order of
    // the names; empty without a cluster (GET /v1/channels then answers `cluster: null`).
    // Called on the blocking pool.
    std::function<std::vector<std::uint64_t>(std::vector<std::string> const&)> cluster_subscriber_totals{};
    std::atomic<std::size_t> websocket_connections{0};
    std::atomic<bool> shutting_down{false};
};

}  // namespace kp::server
