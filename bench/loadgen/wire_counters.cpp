#include "bench/loadgen/wire_counters.hpp"

#include <linux/tcp.h>   // struct tcp_info with tcpi_bytes_received (Linux >= 4.1) and tcpi_segs_in (4.2)
#include <netinet/in.h>
#include <sys/socket.h>

namespace kp::loadgen {

wire_counters wire_counters::of_socket(int fd) {
    if (fd < 0) return {};
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return {};
    // an older kernel fills less of the struct: the fields it left out stay zero
    return {info.tcpi_bytes_received, info.tcpi_segs_in};
}

}  // namespace kp::loadgen
