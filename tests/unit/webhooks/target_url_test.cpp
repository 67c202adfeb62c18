#include "webhooks/target_url.hpp"

#include <catch2/catch.hpp>

using kp::webhooks::target_url;

namespace {

target_url accepted(std::string_view url) {
    auto parsed = target_url::parse(url);
    if (auto const* why = std::get_if<std::string>(&parsed)) FAIL("refused " << url << ": " << *why);
    return std::get<target_url>(parsed);
}

std::string refusal(std::string_view url) {
    auto parsed = target_url::parse(url);
    if (auto const* why = std::get_if<std::string>(&parsed)) return *why;
    return "(accepted)";
}

}  // namespace

TEST_CASE("target url: http with defaults", "[webhooks]") {
    auto const url = accepted("http://Example.COM");
    CHECK_FALSE(url.tls);
    CHECK(url.host == "example.com");
    CHECK(url.port == 80);
    CHECK(url.target == "/");
    CHECK(url.host_header == "example.com");
    CHECK(url.str() == "http://example.com/");
}

TEST_CASE("target url: https, port, path and query kept, fragment dropped", "[webhooks]") {
    auto const url = accepted("HTTPS://hooks.example.org:8443/in/kinto?token=a%20b&x=1#frag");
    CHECK(url.tls);
    CHECK(url.host == "hooks.example.org");
    CHECK(url.port == 8443);
    CHECK(url.target == "/in/kinto?token=a%20b&x=1");
    CHECK(url.host_header == "hooks.example.org:8443");
    CHECK(url.str() == "https://hooks.example.org:8443/in/kinto?token=a%20b&x=1");
}

TEST_CASE("target url: the default port named explicitly is left out of Host", "[webhooks]") {
    CHECK(accepted("https://a.example:443/x").host_header == "a.example");
    CHECK(accepted("http://a.example:80/x").host_header == "a.example");
    CHECK(accepted("http://a.example:443/x").host_header == "a.example:443");
    CHECK(accepted("https://a.example:80/x").host_header == "a.example:80");
    CHECK(accepted("http://a.example:/x").port == 80);
}

TEST_CASE("target url: IP literals", "[webhooks]") {
    auto const v4 = accepted("http://127.0.0.1:9000/hook");
    CHECK(v4.host == "127.0.0.1");
    CHECK(v4.host_header == "127.0.0.1:9000");
    auto const v6 = accepted("https://[2001:DB8::1]/hook");
    CHECK(v6.host == "2001:db8::1");
    CHECK(v6.port == 443);
    CHECK(v6.host_header == "[2001:db8::1]");
    CHECK(accepted("http://[::1]:8080").host_header == "[::1]:8080");
    CHECK(accepted("http://[::1]:8080").str() == "http://[::1]:8080/");
    CHECK(accepted("http://example.com./").host == "example.com.");
}

TEST_CASE("target url: refused with the reason", "[webhooks]") {
    CHECK(refusal("ftp://example.com/") == "the URL's scheme must be http or https");
    CHECK(refusal("ws://example.com/") == "the URL's scheme must be http or https");
    CHECK(refusal("example.com/hook") == "the URL is not a valid absolute URL");
    CHECK(refusal("") == "the URL is not a valid absolute URL");
    CHECK(refusal("http:/hook") == "the URL has no host");
    CHECK(refusal("http:///hook") == "the URL has no host");
    CHECK(refusal("http://user:pass@example.com/") == "the URL must not contain credentials (user or password)");
    CHECK(refusal("http://user@example.com/") == "the URL must not contain credentials (user or password)");
    CHECK(refusal("http://@example.com/") == "the URL must not contain credentials (user or password)");
    CHECK(refusal("http://example.com:0/") == "the URL's port must be between 1 and 65535");
    CHECK(refusal("http://example.com:65536/") == "the URL's port must be between 1 and 65535");
    CHECK(refusal("http://example.com:99999999999/") == "the URL's port must be between 1 and 65535");
    CHECK(accepted("http://example.com:65535/").port == 65535);
    CHECK(refusal("http://exa mple.com/") == "the URL contains spaces or control characters");
    CHECK(refusal("http://example.com/a b") == "the URL contains spaces or control characters");
    CHECK(refusal("http://example.com/\r\nX: y") == "the URL contains spaces or control characters");
    CHECK(refusal(std::string_view{"http://example.com/\0", 20}) == "the URL contains spaces or control characters");
    CHECK(refusal("http://example.com/\x7f") == "the URL contains spaces or control characters");
}

TEST_CASE("target url: length limit", "[webhooks]") {
    std::string const prefix = "http://example.com/";
    auto const longest = prefix + std::string(target_url::max_length - prefix.size(), 'a');
    CHECK(accepted(longest).target.size() == target_url::max_length - prefix.size() + 1);
    CHECK(refusal(longest + "a") == "the URL is longer than 2048 bytes");
}

TEST_CASE("target url: host names that are not valid names", "[webhooks]") {
    CHECK(refusal("http://exa_mple.com/") == "the host is not a valid name (only letters, digits, '-' and '.')");
    CHECK(refusal("http://-example.com/") == "the host is not a valid name (a label starts or ends with '-')");
    CHECK(refusal("http://example-.com/") == "the host is not a valid name (a label starts or ends with '-')");
    CHECK(refusal("http://a..b/") == "the host is not a valid name (a label is empty or longer than 63 characters)");
    CHECK(refusal("http://" + std::string(64, 'a') + ".com/") ==
          "the host is not a valid name (a label is empty or longer than 63 characters)");
    CHECK(accepted("http://" + std::string(63, 'a') + ".com/").host.size() == 67);
    CHECK(refusal("http://ex%41mple.com/") == "the host is not a valid name (percent-encoded)");
    CHECK(refusal("http://exa!mple.com/") == "the host is not a valid name (only letters, digits, '-' and '.')");
    // Numbers that resolvers read as IPv4 addresses are not names.
    CHECK(refusal("http://2130706433/") == "the host is not a valid name or IP address");
    CHECK(refusal("http://127.1/") == "the host is not a valid name or IP address");
    CHECK(refusal("http://127.000.0.1/") == "the host is not a valid name or IP address");
    CHECK(refusal("http://[v1.fe]/") == "the host is not a valid name or IP address");
    std::string long_name;
    for (int i = 0; i < 4; ++i) long_name += std::string(63, 'a') + ".";
    CHECK(refusal("http://" + long_name + "com/") == "the host name is longer than 253 characters");
}
