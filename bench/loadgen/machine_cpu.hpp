#pragma once
// The whole machine's CPU time from /proc/stat (all cores): busy and total, in clock ticks.
// The busy fraction over a window shows how much the server and the load generator competed
// with each other and with anything else on the machine.

#include <cstdint>

namespace kp::loadgen {

class machine_cpu {
public:
    std::uint64_t busy = 0;
    std::uint64_t total = 0;

    static machine_cpu read();
    // busy share of all cores between `before` and `after` (0..1)
    static double busy_fraction(machine_cpu const& before, machine_cpu const& after);
};

}  // namespace kp::loadgen
