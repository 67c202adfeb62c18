#pragma once
// The figures load_run reports for a measured window: server CPU (and per unit of work), the
// machine's and the client's CPU, the subscribers' traffic on the wire, with the rounding the
// reports use.

#include "bench/loadgen/http_base_url.hpp"
#include "bench/loadgen/machine_cpu.hpp"
#include "bench/loadgen/process_sampler.hpp"
#include "bench/loadgen/wire_counters.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace kp::loadgen::run_figures {

// This process's CPU time (user + system), seconds.
double client_cpu_seconds();
// v rounded to a multiple of unit (a power of ten), as the nearest double
double round_to(double v, double unit);
double seconds_between(std::uint64_t a, std::uint64_t b);

// server CPU, machine and client figures at one instant
struct window_sample {
    process_sampler::sample server;
    machine_cpu machine;
    double client_cpu = 0;
    std::uint64_t at_ns = 0;
};
window_sample sample_window(process_sampler const& server);

// The window between two samples; with `per` ("delivery"...), the server CPU per unit of `work`.
nlohmann::json window_json(window_sample const& a, window_sample const& b, std::uint64_t work, char const* per);
// the subscribers' socket traffic of a window, in all and per delivery
nlohmann::json wire_json(wire_counters const& a, wire_counters const& b, std::uint64_t deliveries);
nlohmann::json urls_of(std::vector<http_base_url> const& urls);

}  // namespace kp::loadgen::run_figures
