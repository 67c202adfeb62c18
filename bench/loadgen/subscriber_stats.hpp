#pragma once
// What the subscribers of one client thread measured. Counters the coordinator polls while the
// run goes on are atomics; the rest is touched only on the thread and read by the coordinator
// after a synchronous call on that thread (client_thread::run_sync).

#include "bench/loadgen/latency_histogram.hpp"

#include <atomic>
#include <cstdint>
#include <limits>

namespace kp::loadgen {

struct subscriber_stats {
    // polled
    std::atomic<std::uint64_t> deliveries{0};      // bench events of the current step, replay excluded
    std::atomic<std::uint64_t> last_delivery_ns{0};
    std::atomic<std::uint64_t> opened{0};          // subscribed (this phase)
    std::atomic<std::uint64_t> failed{0};          // could not connect or subscribe (this phase)
    std::atomic<std::uint64_t> closed{0};          // closed by us (resume)
    std::atomic<std::uint64_t> dropped{0};         // closed by the server or the network
    std::atomic<std::uint64_t> resumed{0};         // resume: replay complete

    // read after a sync
    latency_histogram latency;                     // publish -> receipt
    latency_histogram setup;                       // connect start -> subscribed
    latency_histogram resume_time;                 // reconnect start -> last replayed event
    std::uint64_t first_attempt_ns = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t last_subscribed_ns = 0;
    std::uint64_t error_frames = 0;                // kinto-push `error` replies
    std::uint64_t stale_frames = 0;                // events of an earlier saturation step
    std::uint64_t replayed = 0;                    // resume: events replayed
    std::uint64_t replay_gaps = 0;                 // resume: an offset skipped
    std::uint64_t replay_duplicates = 0;           // resume: an offset seen again
    std::uint64_t not_recovered = 0;               // resume: subscribed with recovered:false
    std::uint64_t deflate_negotiated = 0;          // upgrades answered with permessage-deflate
};

}  // namespace kp::loadgen
