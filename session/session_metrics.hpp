#pragma once
// The metrics a subscription session updates, as references into the server's registry (or a
// test's): a hot path pays one relaxed atomic add.

#include "metrics/counter.hpp"
#include "metrics/gauge.hpp"
#include "metrics/metric_family.hpp"

namespace kp::session {

struct session_metrics {
    metrics::counter& events_delivered;   // live events queued to a connection
    metrics::counter& events_replayed;    // history events queued by a resume
    metrics::counter& replays_recovered;
    metrics::counter& replays_not_recovered;
    metrics::gauge& bytes_queued;
    metrics::gauge& replay_read_ahead_bytes;   // replay frames read, not queued yet
    metrics::metric_family<metrics::counter>& auth_failures;   // {kind}
};

}  // namespace kp::session
