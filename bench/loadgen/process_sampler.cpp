#include "bench/loadgen/process_sampler.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace kp::loadgen {

namespace {

// The value in kB of `key:` in a /proc file of "Key:   123 kB" lines; 0 when absent.
std::uint64_t kib_of(std::string const& file, std::string const& key) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':')
            return std::stoull(line.substr(key.size() + 1));
    }
    return 0;
}

}  // namespace

process_sampler::process_sampler(std::vector<int> pids)
    : pids_(std::move(pids)), ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))) {}

process_sampler::sample process_sampler::take() const {
    sample s;
    for (int pid : pids_) {
        std::string const dir = "/proc/" + std::to_string(pid);
        std::ifstream stat(dir + "/stat");
        std::string text;
        if (!std::getline(stat, text)) continue;
        // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
        auto const close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(text.substr(close + 2));
        std::string field;
        std::uint64_t utime = 0, stime = 0;
        for (int n = 3; fields >> field && n <= 15; ++n) {
            if (n == 14) utime = std::stoull(field);
            if (n == 15) stime = std::stoull(field);
        }
        s.cpu_seconds += static_cast<double>(utime + stime) / ticks_per_second_;
        s.user_cpu_seconds += static_cast<double>(utime) / ticks_per_second_;
        s.rss_kib += kib_of(dir + "/status", "VmRSS");
        s.hwm_kib += kib_of(dir + "/status", "VmHWM");
        s.pss_kib += kib_of(dir + "/smaps_rollup", "Pss");
        ++s.alive;
    }
    return s;
}

}  // namespace kp::loadgen
