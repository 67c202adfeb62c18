#include "server/telemetry/process_metrics.hpp"

#include "server/build_info.hpp"
#include "server/telemetry/proc_stat.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>

namespace kp::server {

namespace {

using values = metrics::registry::labelled_values;

std::optional<std::string> read_file(char const* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return std::nullopt;
    return text;
}

std::optional<proc_self_stat> self_stat() {
    auto const text = read_file("/proc/self/stat");
    if (!text) return std::nullopt;
    return parse_proc_self_stat(*text, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
}

values one(std::optional<double> value) {
    if (!value) return {};
    return {{{}, *value}};
}

// Entries of /proc/self/fd (the one open to list them included, as other exporters count).
std::optional<double> open_fds() {
    std::error_code error;
    std::filesystem::directory_iterator it("/proc/self/fd", error);
    if (error) return std::nullopt;
    double count = 0;
    for (auto const end = std::filesystem::directory_iterator(); it != end; it.increment(error)) {
        if (error) return std::nullopt;
        ++count;
    }
    return count;
}

std::optional<double> max_fds() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
    if (limit.rlim_cur == RLIM_INFINITY) return std::numeric_limits<double>::infinity();
    return static_cast<double>(limit.rlim_cur);
}

// Read once: neither the boot time nor the process's start changes.
std::optional<double> start_time() {
    auto const stat = self_stat();
    auto const system = read_file("/proc/stat");
    if (!stat || !system) return std::nullopt;
    auto const boot = parse_boot_time(*system);
    if (!boot) return std::nullopt;
    return static_cast<double>(*boot) + stat->start_after_boot;
}

}  // namespace

void add_process_metrics(metrics::registry& r) {
    r.add_counter_collector("process_cpu_seconds_total", "user and system CPU time spent, in seconds", {}, [] {
        auto const s = self_stat();
        return one(s ? std::optional<double>(s->cpu_seconds) : std::nullopt);
    });
    r.add_gauge_collector("process_resident_memory_bytes", "resident memory size, in bytes", {}, [] {
        auto const s = self_stat();
        return one(s ? std::optional<double>(static_cast<double>(s->resident_bytes)) : std::nullopt);
    });
    r.add_gauge_collector("process_virtual_memory_bytes", "virtual memory size, in bytes", {}, [] {
        auto const s = self_stat();
        return one(s ? std::optional<double>(static_cast<double>(s->virtual_bytes)) : std::nullopt);
    });
    r.add_gauge_collector("process_open_fds", "open file descriptors", {}, [] { return one(open_fds()); });
    r.add_gauge_collector("process_max_fds", "the limit of open file descriptors (RLIMIT_NOFILE, soft)", {},
                          [] { return one(max_fds()); });
    r.add_gauge_collector("process_start_time_seconds", "start time of the process since the Unix epoch, in seconds",
                          {}, [start = start_time()] { return one(start); });
    r.add_gauge_collector("kinto_push_build_info", "the version and git commit of this binary (always 1)",
                          {"version", "commit"}, [] {
                              return values{{{build_info::version(), build_info::commit()}, 1.0}};
                          });
}

}  // namespace kp::server
