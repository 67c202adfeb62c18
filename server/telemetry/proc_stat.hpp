#pragma once
// The figures of the standard Prometheus process metrics, parsed from the text the kernel
// gives in /proc/self/stat and /proc/stat (proc(5)). Pure: the reading is in process_metrics.

#include <cstdint>
#include <optional>
#include <string_view>

namespace kp::server {

struct proc_self_stat {
    double cpu_seconds = 0;            // utime + stime (fields 14 and 15), in seconds
    double start_after_boot = 0;       // starttime (field 22): seconds after the system booted
    std::uint64_t virtual_bytes = 0;   // vsize (field 23)
    std::uint64_t resident_bytes = 0;  // rss (field 24, in pages) times the page size
};

// One line of /proc/self/stat ("pid (comm) state ppid …"; comm may hold blanks and
// parentheses), with the clock ticks per second and the page size of sysconf(3); nullopt when
// the text is not of that shape or a ticks or page size is not positive.
std::optional<proc_self_stat> parse_proc_self_stat(std::string_view text, long ticks_per_second, long page_size);

// The boot time in seconds since the epoch: the "btime N" line of /proc/stat; nullopt without one.
std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat);

}  // namespace kp::server
