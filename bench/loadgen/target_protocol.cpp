#include "bench/loadgen/target_protocol.hpp"

#include <cstdio>

namespace kp::loadgen {

std::string target_protocol::channel_name(std::uint32_t index) {
    char name[16];
    std::snprintf(name, sizeof name, "c%03u", index);
    return name;
}

}  // namespace kp::loadgen
