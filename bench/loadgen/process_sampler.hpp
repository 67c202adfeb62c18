#pragma once
// CPU time and memory of the measured server processes (nchan: nginx master and worker), read
// from /proc: utime and stime (user and kernel CPU) from /proc/PID/stat, VmRSS and VmHWM from /proc/PID/status, Pss from
// /proc/PID/smaps_rollup. Sums over the processes; a process that is gone counts for nothing.

#include <cstdint>
#include <vector>

namespace kp::loadgen {

class process_sampler {
public:
    struct sample {
        double cpu_seconds = 0;        // user + kernel
        double user_cpu_seconds = 0;   // of which in user space (utime)
        std::uint64_t rss_kib = 0;
        std::uint64_t hwm_kib = 0;   // peak RSS
        std::uint64_t pss_kib = 0;
        int alive = 0;
    };

    explicit process_sampler(std::vector<int> pids);
    sample take() const;
    std::vector<int> const& pids() const { return pids_; }

private:
    std::vector<int> pids_;
    double ticks_per_second_;
};

}  // namespace kp::loadgen
