#pragma once
// The server's base URL: http:// or ws:// with a literal loopback IPv4 address and a port
// (the load generator talks to 127.0.0.0/8 only, and never resolves names).

#include <cstdint>
#include <string>
#include <variant>

namespace kp::loadgen {

class http_base_url {
public:
    std::string host;   // e.g. 127.0.0.1
    std::uint16_t port = 0;

    // The URL, or why it is refused.
    static std::variant<http_base_url, std::string> parse(std::string const& text);
    std::string host_header() const { return host + ":" + std::to_string(port); }
};

}  // namespace kp::loadgen
