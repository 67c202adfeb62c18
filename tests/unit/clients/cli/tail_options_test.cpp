// cli::tail_options_parser and cli::ws_url: the command line of `kinto-push tail`
// (docs/cli.md).

#include "clients/cli/tail_options_parser.hpp"
#include "clients/cli/ws_url.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

using kp::cli::help_request;
using kp::cli::tail_options;
using kp::cli::tail_options_parser;
using kp::cli::usage_error;
using kp::cli::ws_url;

namespace {

tail_options parse_ok(std::vector<std::string> const& args) {
    auto parsed = tail_options_parser::parse(args);
    if (auto const* e = std::get_if<usage_error>(&parsed)) FAIL("unexpected usage error: " << e->message);
    REQUIRE(std::holds_alternative<tail_options>(parsed));
    return std::get<tail_options>(parsed);
}

std::string parse_error(std::vector<std::string> const& args) {
    auto parsed = tail_options_parser::parse(args);
    REQUIRE(std::holds_alternative<usage_error>(parsed));
    return std::get<usage_error>(parsed).message;
}

ws_url url_ok(std::string const& text) {
    auto parsed = ws_url::parse(text);
    if (auto const* e = std::get_if<std::string>(&parsed)) FAIL(text << ": " << *e);
    return std::get<ws_url>(parsed);
}

}  // namespace

TEST_CASE("tail options: defaults with one channel") {
    auto o = parse_ok({"--channel", "/buckets/blog/collections/articles"});
    CHECK(o.url.str() == "ws://127.0.0.1:8080/v1/ws");
    CHECK(o.channels == std::vector<std::string>{"/buckets/blog/collections/articles"});
    CHECK_FALSE(o.token);
    CHECK_FALSE(o.state_file);
    CHECK_FALSE(o.exec);
    CHECK_FALSE(o.ca_file);
    CHECK_FALSE(o.insecure);
    CHECK_FALSE(o.max_retries);
}

TEST_CASE("tail options: every option, in both spellings") {
    auto o = parse_ok({"--url=wss://push.example.com", "--channel", "/buckets/blog", "--channel=/buckets",
                       "--token", "abc.def.ghi", "--state", "/tmp/s.json", "--exec=echo hi", "--ca-file", "ca.pem",
                       "--max-retries", "7"});
    CHECK(o.url.tls());
    CHECK(o.url.host() == "push.example.com");
    CHECK(o.url.port() == 443);
    CHECK(o.url.target() == "/v1/ws");
    CHECK(o.channels == std::vector<std::string>{"/buckets/blog", "/buckets"});
    CHECK(o.token == "abc.def.ghi");
    CHECK(o.state_file == "/tmp/s.json");
    CHECK(o.exec == "echo hi");
    CHECK(o.ca_file == "ca.pem");
    CHECK(o.max_retries == 7u);
    CHECK(parse_ok({"--channel", "/buckets", "--insecure", "--url", "wss://h"}).insecure);
    CHECK(parse_ok({"--channel", "/buckets", "--max-retries", "0"}).max_retries == 0u);
}

TEST_CASE("tail options: a channel given twice is followed once") {
    auto o = parse_ok({"--channel", "/buckets/a", "--channel", "/buckets/b", "--channel", "/buckets/a"});
    CHECK(o.channels == std::vector<std::string>{"/buckets/a", "/buckets/b"});
}

TEST_CASE("tail options: --help wins") {
    CHECK(std::holds_alternative<help_request>(tail_options_parser::parse({"--help"})));
    CHECK(std::holds_alternative<help_request>(tail_options_parser::parse({"--channel", "/x", "-h"})));
    CHECK(tail_options_parser::usage().find("--max-retries") != std::string::npos);
}

TEST_CASE("tail options: usage errors name the problem") {
    CHECK_THAT(parse_error({}), Catch::Contains("at least one --channel"));
    CHECK_THAT(parse_error({"--channel", "/buckets/a/records"}), Catch::Contains("not a channel"));
    CHECK_THAT(parse_error({"--channel", "buckets"}), Catch::Contains("not a channel"));
    CHECK_THAT(parse_error({"--channel", "/buckets/" + std::string(65, 'a')}), Catch::Contains("not a channel"));
    CHECK_THAT(parse_error({"--channel", "/buckets/b@d"}), Catch::Contains("not a channel"));
    CHECK_THAT(parse_error({"--channel"}), Catch::Contains("needs a value"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--nope"}), Catch::Contains("unknown option --nope"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "extra"}), Catch::Contains("unexpected argument 'extra'"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--url", "ftp://h"}), Catch::Contains("unsupported scheme"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--url", "a", "--url", "b"}), Catch::Contains("twice"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--max-retries", "-1"}), Catch::Contains("--max-retries"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--max-retries", "3x"}), Catch::Contains("--max-retries"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--max-retries", ""}), Catch::Contains("--max-retries"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--max-retries", "+1"}), Catch::Contains("--max-retries"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--max-retries", " 1"}), Catch::Contains("--max-retries"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--max-retries", "1000000001"}), Catch::Contains("--max-retries"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--max-retries", "18446744073709551617"}),
               Catch::Contains("--max-retries"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--url", "ws://h:+80"}), Catch::Contains("port must be"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--url", "ws://h:0"}), Catch::Contains("port must be"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--url", "ws://h:65536"}), Catch::Contains("port must be"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--url", "ws://h:4294967376"}), Catch::Contains("port must be"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--token", ""}), Catch::Contains("--token"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--token", "a\r\nX-Evil: 1"}), Catch::Contains("--token"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--exec", ""}), Catch::Contains("--exec"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--state="}), Catch::Contains("--state"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--insecure=yes"}), Catch::Contains("no value"));
    CHECK_THAT(parse_error({"--channel", "/buckets", "--insecure", "--ca-file", "x"}), Catch::Contains("exclude"));
}

TEST_CASE("ws_url: ws and wss addresses") {
    auto plain = url_ok("ws://127.0.0.1:8080/v1/ws");
    CHECK_FALSE(plain.tls());
    CHECK(plain.host() == "127.0.0.1");
    CHECK(plain.port() == 8080);
    CHECK(plain.target() == "/v1/ws");
    CHECK(plain.host_header() == "127.0.0.1:8080");

    auto secure = url_ok("WSS://Push.Example.com/custom/path?x=1");
    CHECK(secure.tls());
    CHECK(secure.host() == "push.example.com");
    CHECK(secure.port() == 443);
    CHECK(secure.target() == "/custom/path?x=1");
    CHECK(secure.host_header() == "push.example.com");
    CHECK(secure.str() == "wss://push.example.com/custom/path?x=1");

    CHECK(url_ok("ws://h").target() == "/v1/ws");
    CHECK(url_ok("ws://h").port() == 80);
    CHECK(url_ok("ws://h:80/v1/ws").host_header() == "h");
    CHECK(url_ok("ws://h:0080").port() == 80);   // leading zeros, as before
    CHECK(parse_ok({"--channel", "/buckets", "--max-retries", "007"}).max_retries == 7u);
}

TEST_CASE("ws_url: http(s) addresses name the server, /v1/ws is appended") {
    CHECK(url_ok("http://127.0.0.1:8080").str() == "ws://127.0.0.1:8080/v1/ws");
    CHECK(url_ok("http://127.0.0.1:8080/").str() == "ws://127.0.0.1:8080/v1/ws");
    CHECK(url_ok("https://h/v1").str() == "wss://h/v1/ws");
    CHECK(url_ok("https://h/v1/").str() == "wss://h/v1/ws");
    CHECK(url_ok("https://h/v1/ws").str() == "wss://h/v1/ws");
    CHECK(url_ok("https://h:8443/push/").str() == "wss://h:8443/push/v1/ws");
}

TEST_CASE("ws_url: IPv6 literals") {
    auto u = url_ok("ws://[::1]:9000");
    CHECK(u.host() == "::1");
    CHECK(u.port() == 9000);
    CHECK(u.host_header() == "[::1]:9000");
    CHECK(url_ok("wss://[2001:db8::1]/v1/ws").host_header() == "[2001:db8::1]");
}

TEST_CASE("ws_url: what it refuses") {
    for (char const* bad : {"127.0.0.1:8080", "ftp://h", "ws://", "ws://:80", "ws://h:", "ws://h:0", "ws://h:65536",
                            "ws://h:8x", "ws://user:pw@h", "ws://h/#frag", "ws://h/a b", "ws://[::1", "ws://::1:80",
                            "ws://[::1]x"}) {
        INFO(bad);
        CHECK(std::holds_alternative<std::string>(ws_url::parse(bad)));
    }
}
