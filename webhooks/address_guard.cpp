#include "webhooks/address_guard.hpp"

#include <array>
#include <cstdint>

namespace kp::webhooks {
namespace {

struct ipv4_range {
    std::uint32_t network;
    unsigned prefix;
    char const* kind;
};

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
    return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | std::uint32_t{d};
}

// Checked in order: the broadcast address before 240.0.0.0/4 which contains it.
constexpr std::array<ipv4_range, 10> ipv4_refused{{
    {v4(0, 0, 0, 0), 8, "unspecified"},
    {v4(127, 0, 0, 0), 8, "loopback"},
    {v4(10, 0, 0, 0), 8, "private"},
    {v4(172, 16, 0, 0), 12, "private"},
    {v4(192, 168, 0, 0), 16, "private"},
    {v4(169, 254, 0, 0), 16, "link-local"},
    {v4(100, 64, 0, 0), 10, "carrier-grade NAT"},
    {v4(224, 0, 0, 0), 4, "multicast"},
    {v4(255, 255, 255, 255), 32, "broadcast"},
    {v4(240, 0, 0, 0), 4, "reserved"},
}};

bool in_range(std::uint32_t address, std::uint32_t network, unsigned prefix) {
    std::uint32_t const mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (address & mask) == (network & mask);
}

std::optional<std::string> refused_v4(boost::asio::ip::address_v4 const& address) {
    auto const value = address.to_uint();
    for (auto const& range : ipv4_refused) {
        if (in_range(value, range.network, range.prefix)) return std::string{range.kind};
    }
    return std::nullopt;
}

boost::asio::ip::address_v4 v4_from(std::array<unsigned char, 16> const& bytes, std::size_t first) {
    return boost::asio::ip::address_v4{boost::asio::ip::address_v4::bytes_type{
        bytes[first], bytes[first + 1], bytes[first + 2], bytes[first + 3]}};
}

bool all_zero(std::array<unsigned char, 16> const& bytes, std::size_t from, std::size_t to) {
    for (auto i = from; i < to; ++i) {
        if (bytes[i] != 0) return false;
    }
    return true;
}

std::optional<std::string> refused_v6(boost::asio::ip::address_v6 const& address) {
    auto const bytes = address.to_bytes();
    if (address.is_unspecified()) return "unspecified";
    if (address.is_loopback()) return "loopback";
    // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible, deprecated but still routed
    // by some stacks to the IPv4 address).
    if (all_zero(bytes, 0, 10) && bytes[10] == 0xff && bytes[11] == 0xff) return refused_v4(v4_from(bytes, 12));
    if (all_zero(bytes, 0, 12)) return refused_v4(v4_from(bytes, 12));
    // NAT64 well-known prefix 64:ff9b::/96.
    if (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b && all_zero(bytes, 4, 12)) {
        return refused_v4(v4_from(bytes, 12));
    }
    // 6to4 2002:a.b.c.d::/48.
    if (bytes[0] == 0x20 && bytes[1] == 0x02) return refused_v4(v4_from(bytes, 2));
    if (bytes[0] == 0xff) return "multicast";
    if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80) return "link-local";
    if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0xc0) return "site-local";
    if ((bytes[0] & 0xfe) == 0xfc) return "private";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> refused_address(boost::asio::ip::address const& address) {
    if (address.is_v4()) return refused_v4(address.to_v4());
    return refused_v6(address.to_v6());
}

}  // namespace kp::webhooks
