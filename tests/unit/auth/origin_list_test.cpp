// auth::origin_list: the --cors-origins and --allowed-origins lists.

#include "auth/origin_list.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

using kp::auth::origin_list;

namespace {

origin_list must_parse(std::string const& list) {
    auto parsed = origin_list::parse(list);
    if (auto const* error = std::get_if<std::string>(&parsed)) FAIL("unexpected error: " << *error);
    return std::get<origin_list>(parsed);
}

std::string must_fail(std::string const& list) {
    auto parsed = origin_list::parse(list);
    if (std::holds_alternative<origin_list>(parsed)) FAIL("expected an error for '" << list << "'");
    return std::get<std::string>(parsed);
}

}  // namespace

TEST_CASE("origin_list: listed origins are contained, byte for byte as browsers send them", "[auth][cors]") {
    auto const list = must_parse("https://app.example.com, http://127.0.0.1:9000");
    CHECK_FALSE(list.any());
    CHECK(list.origins() == std::vector<std::string>{"https://app.example.com", "http://127.0.0.1:9000"});
    CHECK(list.contains("https://app.example.com"));
    CHECK(list.contains("http://127.0.0.1:9000"));
    CHECK_FALSE(list.contains("http://app.example.com"));      // another scheme
    CHECK_FALSE(list.contains("https://app.example.com:8443"));   // another port
    CHECK_FALSE(list.contains("http://127.0.0.1:9001"));
    CHECK_FALSE(list.contains("https://evil.app.example.com"));
    CHECK_FALSE(list.contains("https://app.example.com.evil"));
    CHECK_FALSE(list.contains("https://app.example.com/"));
    CHECK_FALSE(list.contains("null"));
    CHECK_FALSE(list.contains(""));
    CHECK(list.str() == "https://app.example.com,http://127.0.0.1:9000");
}

TEST_CASE("origin_list: * alone is any origin", "[auth][cors]") {
    auto const list = must_parse(" * ");
    CHECK(list.any());
    CHECK(list.origins().empty());
    CHECK(list.contains("https://anything.example"));
    CHECK(list.contains("null"));
    CHECK(list.str() == "*");
    CHECK(must_parse("*,*").any());
    CHECK_THAT(must_fail("*,https://a.example"), Catch::Contains("* stands alone"));
    CHECK_THAT(must_fail("https://a.example, *"), Catch::Contains("* stands alone"));
}

TEST_CASE("origin_list: normalized as browsers serialize origins", "[auth][cors]") {
    // Lower-case scheme and host, default ports dropped, leading zeros gone; duplicates once;
    // blanks and empty items ignored.
    auto const list = must_parse("HTTPS://App.Example.COM:443,,http://x.example:80 ,\thttp://x.example,"
                                 "http://[::1]:08080, https://b.example:08443,");
    CHECK(list.origins() ==
          std::vector<std::string>{"https://app.example.com", "http://x.example", "http://[::1]:8080", "https://b.example:8443"});
    CHECK(list.contains("https://app.example.com"));
    CHECK_FALSE(list.contains("HTTPS://App.Example.COM:443"));   // requests are compared as sent
    // The default port of one scheme is not the other's.
    CHECK(must_parse("https://a.example:80").origins() == std::vector<std::string>{"https://a.example:80"});
    CHECK(must_parse("http://a.example:443").origins() == std::vector<std::string>{"http://a.example:443"});
    // Other schemes are kept (extension pages), with their port.
    CHECK(must_parse("moz-extension://1b2c3d").origins() == std::vector<std::string>{"moz-extension://1b2c3d"});
}

TEST_CASE("origin_list: what is not an origin is refused, naming it", "[auth][cors]") {
    CHECK_THAT(must_fail(""), Catch::Contains("names no origin"));
    CHECK_THAT(must_fail(" , ,"), Catch::Contains("names no origin"));
    CHECK_THAT(must_fail("app.example.com"), Catch::Contains("'app.example.com': no scheme"));
    CHECK_THAT(must_fail("://app.example.com"), Catch::Contains("no scheme"));
    CHECK_THAT(must_fail("https://app.example.com/"),
               Catch::Contains("'https://app.example.com/'") && Catch::Contains("trailing slash") &&
                   Catch::Contains(": https://app.example.com"));
    CHECK_THAT(must_fail("https://app.example.com/path"), Catch::Contains("no path"));
    CHECK_THAT(must_fail("https://app.example.com?x=1"), Catch::Contains("no path, query"));
    CHECK_THAT(must_fail("https://app.example.com#f"), Catch::Contains("fragment"));
    CHECK_THAT(must_fail("https://user:pw@app.example.com"), Catch::Contains("no user name"));
    CHECK_THAT(must_fail("https://*.example.com"), Catch::Contains("no wildcards"));
    CHECK_THAT(must_fail("https://"), Catch::Contains("no host"));
    CHECK_THAT(must_fail("https://:443"), Catch::Contains("no host"));
    CHECK_THAT(must_fail("https://a.example:"), Catch::Contains("empty port"));
    CHECK_THAT(must_fail("https://a.example:0"), Catch::Contains("1 to 65535"));
    CHECK_THAT(must_fail("https://a.example:65536"), Catch::Contains("1 to 65535"));
    CHECK_THAT(must_fail("https://a.example:123456"), Catch::Contains("1 to 65535"));
    CHECK_THAT(must_fail("https://a.example:8x"), Catch::Contains("1 to 65535"));
    CHECK_THAT(must_fail("https://a example"), Catch::Contains("not a host name"));
    CHECK_THAT(must_fail("https://[::1"), Catch::Contains("unclosed"));
    CHECK_THAT(must_fail("https://[]"), Catch::Contains("not an IPv6 address"));
    CHECK_THAT(must_fail("https://[::1]x"), Catch::Contains("after the host"));
    CHECK_THAT(must_fail("1http://a.example"), Catch::Contains("not a URL scheme"));
    CHECK_THAT(must_fail("ht tp://a.example"), Catch::Contains("not a URL scheme"));
    CHECK_THAT(must_fail("null"), Catch::Contains("'null'"));
    CHECK_THAT(must_fail(std::string("https://") + std::string(600, 'a') + ".example"), Catch::Contains("longer than 512"));
    // The first bad item is named, after good ones.
    CHECK_THAT(must_fail("https://good.example,https://bad.example/"), Catch::Contains("'https://bad.example/'"));
}
