#pragma once
// Everything kp-loadgen is told on its command line (see options_parser::usage()).

#include "bench/loadgen/http_base_url.hpp"
#include "bench/loadgen/record_payload.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kp::loadgen {

enum class target_kind { kinto_push, nchan };
enum class run_mode { live, idle, resume, saturate };
// How subscribers connect: WebSocket, WebSocket offering permessage-deflate, Server-Sent Events.
enum class transport_kind { ws, ws_deflate, sse };

struct loadgen_options {
    target_kind target = target_kind::kinto_push;
    transport_kind transport = transport_kind::ws;
    payload_kind payload = payload_kind::bench;   // bench: padded to payload_bytes
    std::vector<http_base_url> urls;           // one per node: subscriber thread t and publisher p
                                               // use urls[t mod N] and urls[p mod N]
    std::uint32_t channels = 1;
    std::uint32_t subscribers = 100;
    double rate = 100;                         // events/s over all channels
    std::uint64_t events = 1000;               // live: in total; resume: per channel
    double max_seconds = 60;                   // hard bound of the whole run
    std::size_t payload_bytes = 128;
    unsigned threads = 1;                      // subscriber threads (one io_context each)
    unsigned publishers = 4;                   // keep-alive HTTP connections
    unsigned handshakes_in_flight = 200;       // over all threads
    std::vector<std::string> source_addrs{"127.0.0.1"};
    std::vector<int> server_pids;
    std::string secret;                        // kinto-push publish secret (Bearer)
    run_mode mode = run_mode::live;
    double idle_hold_seconds = 5;
    double drain_seconds = 10;                 // at most, after the last publish answer
    double settle_seconds = 1;                 // idle time after connecting, before measuring
    double step_seconds = 4;                   // saturate: publishing time per step
    double max_lag_ms = 500;                   // saturate: p99 latency bound of a passing step
    unsigned max_steps = 10;                   // saturate
    std::optional<std::string> json_out;
    bool deflate = false;                      // --deflate on: the same as --transport ws-deflate
};

}  // namespace kp::loadgen
