#pragma once
// The kinto_push_* metrics served at GET /metrics. Each is a reference into the registry, so
// a hot path pays one relaxed atomic add on its thread's stripe (metrics/).

#include "metrics/registry.hpp"
#include "session/session_metrics.hpp"

namespace kp::server {

class server_metrics {
public:
    server_metrics();
    server_metrics(server_metrics const&) = delete;
    server_metrics& operator=(server_metrics const&) = delete;

    metrics::registry& registry() { return registry_; }

private:
    metrics::registry registry_;   // first: everything below points into it

public:
    metrics::counter& connections_total;
    metrics::counter& connections_refused;           // over --max-connections (4029)
    metrics::counter& connections_deflate;           // accepted with permessage-deflate
    metrics::counter& events_received;               // events in POSTs answered 202
    metrics::counter& events_delivered;              // live events queued to a connection
    metrics::counter& events_replayed;               // history events queued by a resume
    metrics::metric_family<metrics::counter>& publish_requests;   // {status}
    metrics::counter& publish_accepted;                          // {status="202"}
    metrics::histogram& publish_seconds;             // POST read -> 202 written
    metrics::histogram& delivery_seconds;            // stored -> handed to every socket of a shard
    metrics::metric_family<metrics::counter>& replays;   // {outcome}
    metrics::counter& replays_recovered;
    metrics::counter& replays_not_recovered;
    metrics::gauge& bytes_queued;
    metrics::gauge& replay_read_ahead_bytes;         // replay frames read, not queued yet
    metrics::metric_family<metrics::counter>& closes;          // {code, initiator}
    metrics::metric_family<metrics::counter>& sse_closes;      // {reason, initiator}
    metrics::metric_family<metrics::counter>& auth_failures;   // {kind}
    metrics::metric_family<metrics::histogram>& store_seconds;   // {operation}
    metrics::metric_family<metrics::counter>& store_errors;      // {operation}
    metrics::metric_family<metrics::counter>& webhook_deliveries;   // {result}: one per attempt
    metrics::counter& webhook_events;                // events acknowledged by webhook targets
    metrics::counter& webhook_retries;               // attempts scheduled again after a failure
    // The same references, for the subscription sessions (session/).
    session::session_metrics session;
};

}  // namespace kp::server
