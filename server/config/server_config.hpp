#pragma once
// Every setting of the server, with PROTOCOL.md section 5's defaults.

#include "auth/origin_list.hpp"
#include "push/broadcast_spec.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kp::server {

struct server_config {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8080;
    std::size_t shards = 0;   // 0 = number of cores
    std::string store = "sqlite:./data/kinto-push.sqlite3";
    std::string durability = "full";
    std::size_t history_size = 1000;
    std::int64_t history_ttl_s = 86400;
    std::size_t history_cache = 500;
    std::optional<std::string> redis_password;
    std::optional<std::string> redis_tls_ca;
    std::optional<std::string> publish_secret;
    // --publish-secret-file, --jwt-secret-file, --admin-secret-file: where the secret was read
    // from (config_loader reads it into the secret; --print-config shows the file, not the secret).
    std::optional<std::string> publish_secret_file;
    std::size_t max_body_bytes = 4 * 1024 * 1024;
    std::size_t max_frame_bytes = 64 * 1024;
    std::size_t max_connections = 100000;
    std::size_t max_subscriptions = 256;
    std::size_t send_queue_bytes = 4 * 1024 * 1024;
    std::size_t max_replay = 10000;
    std::int64_t heartbeat_s = 25;
    std::int64_t request_timeout_s = 30;   // a whole HTTP request (and the TLS handshake)
    std::size_t socket_send_buffer = 0;    // SO_SNDBUF of accepted sockets; 0: the kernel's autotuning
    bool compression = true;               // permessage-deflate when a WebSocket client offers it
    std::string public_channels;                 // comma-separated patterns, validated at start
    std::optional<std::string> jwt_secret;       // one secret a line: --jwt-secret repeated, or the file's lines
    std::optional<std::string> jwt_secret_file;
    std::optional<std::string> jwt_public_key;   // PEM file
    std::optional<std::string> jwt_jwks_url;     // JWK Set of RS256/ES256 keys, fetched and refreshed
    std::int64_t jwt_jwks_refresh_min_s = 30;    // an unknown kid fetches again, at most this often
    std::int64_t jwt_jwks_refresh_s = 300;       // fetched this often anyway
    std::optional<std::string> jwt_audience;
    std::optional<std::string> jwt_issuer;
    std::optional<std::string> kinto_url;
    std::int64_t kinto_recheck_s = 60;   // delegated subscriptions are asked about again this often
    // Webhooks and channel information (PROTOCOL.md sections 7 and 8): the admin bearer secret
    // (none: loopback callers, or a JWT with the `webhooks` claim), whether targets may be
    // loopback or private addresses, and the delivery settings.
    std::optional<std::string> admin_secret;
    std::optional<std::string> admin_secret_file;
    bool webhook_allow_private = false;
    std::int64_t webhook_disable_after_s = 259200;
    std::int64_t webhook_timeout_s = 10;            // connect + request + whole response
    std::int64_t webhook_backoff_initial_ms = 1000; // first retry; doubles (with jitter) up to the max
    std::int64_t webhook_backoff_max_s = 3600;
    // Browsers on other origins (PROTOCOL.md section 4; server/http/cors_policy): the origins
    // whose pages may read the CORS paths, and those whose WebSocket upgrades and SSE requests
    // are taken (unset: no CORS fields; no Origin check).
    std::optional<auth::origin_list> cors_origins;
    std::optional<auth::origin_list> allowed_origins;
    std::optional<std::string> tls_cert;
    std::optional<std::string> tls_key;
    // --metrics-listen: a second, plain-HTTP address serving only /metrics and the Dockerflow
    // endpoints (then /metrics leaves the main address).
    std::optional<std::string> metrics_host;
    std::uint16_t metrics_port = 0;
    std::vector<push::broadcast_spec> broadcasts;   // Autopush broadcasts on /v1/push (none: not served)
    std::int64_t broadcast_debounce_s = 0;
    std::string log_level = "info";
    std::string log_format = "text";
};

}  // namespace kp::server
