#pragma once
// The addresses a webhook may not reach unless --webhook-allow-private is set (PROTOCOL.md
// section 7, "Targets"): this host, private networks, link-local, unspecified, multicast,
// carrier-grade NAT and reserved ranges. IPv6 forms that carry an IPv4 address (IPv4-mapped,
// IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that IPv4 address.

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>

namespace kp::webhooks {

// nullopt when the address is public; otherwise the kind of address, for an error message:
// "loopback", "private", "link-local", "unspecified", "multicast", "carrier-grade NAT",
// "broadcast", "reserved", "site-local" (fc00::/7, unique local, counts as "private").
std::optional<std::string> refused_address(boost::asio::ip::address const& address);

}  // namespace kp::webhooks
