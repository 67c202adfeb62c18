#include "bench/loadgen/machine_cpu.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace kp::loadgen {

machine_cpu machine_cpu::read() {
    machine_cpu m;
    std::ifstream in("/proc/stat");
    std::string line;
    if (!std::getline(in, line) || !line.starts_with("cpu ")) return m;
    std::istringstream fields(line.substr(4));
    std::uint64_t v = 0;
    for (int i = 0; fields >> v; ++i) {
        m.total += v;
        if (i != 3 && i != 4) m.busy += v;   // idle, iowait
        if (i == 7) break;                    // guest and guest_nice are already in user and nice
    }
    return m;
}

double machine_cpu::busy_fraction(machine_cpu const& before, machine_cpu const& after) {
    auto const total = after.total - before.total;
    return total ? static_cast<double>(after.busy - before.busy) / static_cast<double>(total) : 0.0;
}

}  // namespace kp::loadgen
