#pragma once
// What a subscriber's socket received, from the kernel's TCP_INFO: the TCP payload bytes (the
// server's frames or event-stream text with their framing, as they went over the wire,
// compressed or not) and the segments. Differences of two readings give a window's traffic.

#include <cstdint>

namespace kp::loadgen {

struct wire_counters {
    std::uint64_t bytes = 0;      // tcpi_bytes_received
    std::uint64_t segments = 0;   // tcpi_segs_in

    // The counters of a connected TCP socket; zeros when they cannot be read.
    static wire_counters of_socket(int fd);

    wire_counters& operator+=(wire_counters const& o) {
        bytes += o.bytes;
        segments += o.segments;
        return *this;
    }
};

}  // namespace kp::loadgen
