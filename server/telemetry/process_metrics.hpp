#pragma once
// The metrics every Prometheus exporter has about its process (process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_start_time_seconds), read from /proc/self at each scrape, and
// kinto_push_build_info{version,commit} 1. A figure that cannot be read has no sample.

#include "metrics/registry.hpp"

namespace kp::server {

void add_process_metrics(metrics::registry& registry);

}  // namespace kp::server
