#include "server/telemetry/server_metrics.hpp"

#include "server/telemetry/process_metrics.hpp"

namespace kp::server {

server_metrics::server_metrics()
    : connections_total(registry_.add_counter("kinto_push_connections_total", "WebSocket connections accepted")),
      connections_refused(registry_.add_counter(
          "kinto_push_connections_refused_total", "WebSocket connections closed with 4029 (over --max-connections)")),
      connections_deflate(registry_.add_counter("kinto_push_connections_deflate_total",
                                                "WebSocket connections accepted with permessage-deflate")),
      events_received(registry_.add_counter("kinto_push_events_received_total",
                                            "Kinto events in POST /v1/events requests answered 202")),
      events_delivered(registry_.add_counter("kinto_push_events_delivered_total",
                                             "live event frames queued to a WebSocket connection")),
      events_replayed(registry_.add_counter("kinto_push_events_replayed_total",
                                            "history event frames queued to a resuming connection")),
      publish_requests(registry_.counter_family("kinto_push_publish_requests_total",
                                                "POST /v1/events answers by HTTP status", {"status"})),
      publish_accepted(publish_requests.with({"202"})),
      publish_seconds(registry_.add_histogram("kinto_push_publish_seconds",
                                              "POST /v1/events: from the request read to the 202 (stored)",
                                              metrics::histogram::latency_bounds())),
      delivery_seconds(registry_.add_histogram(
          "kinto_push_delivery_seconds",
          "from a transaction stored to its frames handed to every connection of a shard (per shard)",
          metrics::histogram::latency_bounds())),
      replays(registry_.counter_family("kinto_push_replays_total",
                                       "subscriptions with a `since`, by outcome (recovered, not_recovered)",
                                       {"outcome"})),
      replays_recovered(replays.with({"recovered"})),
      replays_not_recovered(replays.with({"not_recovered"})),
      bytes_queued(registry_.add_gauge("kinto_push_bytes_queued", "bytes queued to WebSocket connections, not yet written")),
      replay_read_ahead_bytes(registry_.add_gauge(
          "kinto_push_replay_read_ahead_bytes",
          "replay frames read from the history and waiting for a connection's queue to drain")),
      closes(registry_.counter_family("kinto_push_websocket_closes_total",
                                      "WebSocket connections ended, by close code (1006: no close frame) and by who closed",
                                      {"code", "initiator"})),
      sse_closes(registry_.counter_family("kinto_push_sse_closes_total",
                                          "SSE streams ended, by reason (too_slow, unauthorized, shutdown, internal, "
                                          "client_closed) and by who ended them",
                                          {"reason", "initiator"})),
      auth_failures(registry_.counter_family("kinto_push_auth_failures_total",
                                             "refused credentials, by kind", {"kind"})),
      store_seconds(registry_.histogram_family("kinto_push_store_operation_seconds", "history store operations",
                                               {"operation"}, metrics::histogram::latency_bounds())),
      store_errors(registry_.counter_family("kinto_push_store_errors_total", "history store operations that failed",
                                            {"operation"})),
      webhook_deliveries(registry_.counter_family(
          "kinto_push_webhook_deliveries_total",
          "webhook requests answered or failed, by result (success, http_error, redirect, gone, timeout, error)",
          {"result"})),
      webhook_events(registry_.add_counter("kinto_push_webhook_events_total", "events acknowledged by webhook targets")),
      webhook_retries(registry_.add_counter("kinto_push_webhook_retries_total",
                                            "webhook requests scheduled again after a failure")),
      session{events_delivered, events_replayed, replays_recovered, replays_not_recovered,
              bytes_queued,     replay_read_ahead_bytes, auth_failures} {
    add_process_metrics(registry_);
}

}  // namespace kp::server
