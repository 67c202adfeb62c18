#pragma once
// The URL a webhook delivers to (PROTOCOL.md section 7, "Targets"), parsed and checked without
// any socket: http or https, a host that is a valid name or IP literal, no credentials. What
// the outbound client needs to connect (tls, host, port) and to write the request line and
// the Host field.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace kp::webhooks {

struct target_url {
    static constexpr std::size_t max_length = 2048;

    bool tls = false;
    std::string host;         // lowercase; an IPv6 literal without its brackets
    std::uint16_t port = 0;   // the scheme's default when the URL names none
    std::string target;       // path + query, "/" when the path is empty; the fragment dropped
    std::string host_header;  // host[:port] for the Host field: brackets for IPv6, port only when not the default

    // The URL again, normalised: scheme://host_header + target.
    std::string str() const;

    // The target, or why the URL is refused (a sentence for an error message).
    static std::variant<target_url, std::string> parse(std::string_view url);
};

}  // namespace kp::webhooks
