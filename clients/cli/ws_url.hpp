#pragma once
// A WebSocket address the tail command connects to: ws:// or wss://, host, port and target,
// parsed from what a user types (ws(s)://HOST[:PORT][/PATH] or http(s)://HOST[:PORT][/PREFIX]).

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace kp::cli {

class ws_url {
public:
    ws_url() = default;   // empty: only parse() gives a usable address
    // The parsed address, or a sentence saying what is wrong with `text`.
    static std::variant<ws_url, std::string> parse(std::string_view text);

    bool tls() const { return tls_; }
    std::string const& host() const { return host_; }       // without IPv6 brackets
    std::uint16_t port() const { return port_; }
    std::string const& target() const { return target_; }   // path and query, e.g. /v1/ws
    // The Host header: host, bracketed when IPv6, with the port unless it is the default.
    std::string host_header() const;
    // ws[s]://host[:port]/target: how the command names the server in its messages.
    std::string str() const;

private:
    bool tls_ = false;
    std::string host_;
    std::uint16_t port_ = 0;
    std::string target_;
};

}  // namespace kp::cli
