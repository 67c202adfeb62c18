#include "bench/loadgen/run_figures.hpp"

#include "bench/loadgen/steady_ns.hpp"

#include <sys/resource.h>

#include <cmath>

namespace kp::loadgen::run_figures {

using nlohmann::json;

double client_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double round_to(double v, double unit) {
    return unit < 1 ? std::round(v / unit) / std::round(1 / unit) : std::round(v / unit) * unit;
}

double seconds_between(std::uint64_t a, std::uint64_t b) { return b > a ? static_cast<double>(b - a) / 1e9 : 0.0; }

window_sample sample_window(process_sampler const& server) {
    return {server.take(), machine_cpu::read(), client_cpu_seconds(), steady_ns()};
}

json window_json(window_sample const& a, window_sample const& b, std::uint64_t work, char const* per) {
    double const cpu = b.server.cpu_seconds - a.server.cpu_seconds;
    double const user_cpu = b.server.user_cpu_seconds - a.server.user_cpu_seconds;
    json j{{"window_seconds", round_to(seconds_between(a.at_ns, b.at_ns), 0.001)},
           {"server_cpu_seconds", round_to(cpu, 0.01)},
           {"server_user_cpu_seconds", round_to(user_cpu, 0.01)},
           {"server_cpu_percent", seconds_between(a.at_ns, b.at_ns) > 0
                                      ? round_to(100.0 * cpu / seconds_between(a.at_ns, b.at_ns), 0.1)
                                      : 0.0},
           {"client_cpu_seconds", round_to(b.client_cpu - a.client_cpu, 0.01)},
           {"machine_busy_fraction", round_to(machine_cpu::busy_fraction(a.machine, b.machine), 0.001)}};
    if (per) {
        j[std::string("server_cpu_us_per_") + per] = work ? round_to(cpu * 1e6 / static_cast<double>(work), 0.01) : 0.0;
        j[std::string("server_user_cpu_us_per_") + per] =
            work ? round_to(user_cpu * 1e6 / static_cast<double>(work), 0.01) : 0.0;
        j[std::string(per) + "s_per_server_cpu_second"] = cpu > 0 ? std::round(static_cast<double>(work) / cpu) : 0.0;
    }
    return j;
}

json wire_json(wire_counters const& a, wire_counters const& b, std::uint64_t deliveries) {
    std::uint64_t const bytes = b.bytes > a.bytes ? b.bytes - a.bytes : 0;
    std::uint64_t const segments = b.segments > a.segments ? b.segments - a.segments : 0;
    double const n = static_cast<double>(deliveries);
    return {{"bytes_received", bytes},
            {"segments_received", segments},
            {"bytes_per_delivery", deliveries ? round_to(static_cast<double>(bytes) / n, 0.1) : 0.0},
            {"segments_per_delivery", deliveries ? round_to(static_cast<double>(segments) / n, 0.001) : 0.0}};
}

json urls_of(std::vector<http_base_url> const& urls) {
    json out = json::array();
    for (auto const& url : urls) out.push_back("http://" + url.host_header());
    return out;
}

}  // namespace kp::loadgen::run_figures
