#include "webhooks/address_guard.hpp"

#include <catch2/catch.hpp>

using kp::webhooks::refused_address;

namespace {

std::optional<std::string> judge(char const* text) {
    return refused_address(boost::asio::ip::make_address(text));
}

}  // namespace

TEST_CASE("address guard: public IPv4 and IPv6 addresses pass", "[webhooks]") {
    for (auto const* address : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "9.255.255.255", "11.0.0.0", "172.15.255.255",
                                "172.32.0.0", "192.167.255.255", "192.169.0.0", "169.253.255.255", "100.63.255.255",
                                "100.128.0.0", "126.255.255.255", "128.0.0.0", "223.255.255.255", "1.0.0.0",
                                "2001:4860:4860::8888", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
                                "2002:808:808::1", "fe7f:ffff::1", "fbff::1"}) {
        INFO(address);
        CHECK_FALSE(judge(address).has_value());
    }
}

TEST_CASE("address guard: every refused IPv4 range, at both ends", "[webhooks]") {
    struct row { char const* address; char const* kind; };
    for (auto const& [address, kind] : {
             row{"0.0.0.0", "unspecified"}, row{"0.255.255.255", "unspecified"},
             row{"127.0.0.1", "loopback"}, row{"127.255.255.254", "loopback"},
             row{"10.0.0.0", "private"}, row{"10.255.255.255", "private"},
             row{"172.16.0.0", "private"}, row{"172.31.255.255", "private"},
             row{"192.168.0.0", "private"}, row{"192.168.255.255", "private"},
             row{"169.254.0.0", "link-local"}, row{"169.254.169.254", "link-local"},
             row{"100.64.0.0", "carrier-grade NAT"}, row{"100.127.255.255", "carrier-grade NAT"},
             row{"224.0.0.1", "multicast"}, row{"239.255.255.255", "multicast"},
             row{"240.0.0.0", "reserved"}, row{"255.255.255.254", "reserved"},
             row{"255.255.255.255", "broadcast"}}) {
        INFO(address);
        CHECK(judge(address) == std::optional<std::string>{kind});
    }
}

TEST_CASE("address guard: refused IPv6 ranges", "[webhooks]") {
    struct row { char const* address; char const* kind; };
    for (auto const& [address, kind] : {
             row{"::", "unspecified"}, row{"::1", "loopback"},
             row{"fe80::1", "link-local"}, row{"febf:ffff::1", "link-local"},
             row{"fc00::1", "private"}, row{"fdff:ffff::1", "private"},
             row{"fec0::1", "site-local"}, row{"feff::1", "site-local"},
             row{"ff00::", "multicast"}, row{"ff02::1", "multicast"}}) {
        INFO(address);
        CHECK(judge(address) == std::optional<std::string>{kind});
    }
}

TEST_CASE("address guard: IPv6 forms that carry an IPv4 address are judged by it", "[webhooks]") {
    struct row { char const* address; char const* kind; };
    for (auto const& [address, kind] : {
             row{"::ffff:127.0.0.1", "loopback"}, row{"::ffff:10.1.2.3", "private"},
             row{"::ffff:169.254.169.254", "link-local"}, row{"::ffff:0.0.0.0", "unspecified"},
             row{"::127.0.0.1", "loopback"}, row{"::192.168.1.1", "private"}, row{"::224.0.0.1", "multicast"},
             row{"64:ff9b::127.0.0.1", "loopback"}, row{"64:ff9b::a00:1", "private"},
             row{"64:ff9b::100.64.0.1", "carrier-grade NAT"},
             row{"2002:7f00:1::", "loopback"}, row{"2002:c0a8:101::1", "private"},
             row{"2002:a9fe:a9fe::", "link-local"}, row{"2002:ffff:ffff::", "broadcast"}}) {
        INFO(address);
        CHECK(judge(address) == std::optional<std::string>{kind});
    }
    // The same embedded public address passes in every form.
    for (auto const* address : {"::ffff:93.184.216.34", "::93.184.216.34", "64:ff9b::93.184.216.34", "2002:5db8:d822::1"}) {
        INFO(address);
        CHECK_FALSE(judge(address).has_value());
    }
}
