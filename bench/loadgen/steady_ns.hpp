#pragma once
// The steady clock in nanoseconds (CLOCK_MONOTONIC: the same in every process of the machine).

#include <chrono>
#include <cstdint>

namespace kp::loadgen {

inline std::uint64_t steady_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

}  // namespace kp::loadgen
