// bench/loadgen options_parser: values, ranges, and the combinations refused.

#include "bench/loadgen/options_parser.hpp"

#include <catch2/catch.hpp>

using namespace kp::loadgen;

namespace {

std::variant<loadgen_options, usage_error, help_request> parse(std::vector<std::string> args) {
    return options_parser::parse(args);
}

std::string error_of(std::vector<std::string> args) {
    auto r = parse(std::move(args));
    auto const* e = std::get_if<usage_error>(&r);
    return e ? e->message : std::string("(accepted)");
}

}  // namespace

TEST_CASE("a full command line is read", "[loadgen]") {
    auto r = parse({"--target", "nchan", "--url", "ws://127.0.0.1:18080/", "--channels=1000", "--subscribers", "5000",
                    "--rate", "1000", "--events", "20000", "--threads", "2", "--source-addrs", "127.0.0.1,127.0.0.2",
                    "--server-pid", "10,11", "--server-pid", "12", "--mode", "saturate", "--json", "out.json",
                    "--deflate", "on"});
    auto const* o = std::get_if<loadgen_options>(&r);
    REQUIRE(o);
    CHECK(o->target == target_kind::nchan);
    REQUIRE(o->urls.size() == 1);
    CHECK(o->urls[0].host == "127.0.0.1");
    CHECK(o->urls[0].port == 18080);
    CHECK(o->channels == 1000);
    CHECK(o->subscribers == 5000);
    CHECK(o->rate == 1000);
    CHECK(o->events == 20000);
    CHECK(o->source_addrs == std::vector<std::string>{"127.0.0.1", "127.0.0.2"});
    CHECK(o->server_pids == std::vector<int>{10, 11, 12});
    CHECK(o->mode == run_mode::saturate);
    CHECK(o->json_out == "out.json");
    CHECK(o->deflate);
}

TEST_CASE("several --url nodes: one list, whole threads per node", "[loadgen]") {
    auto r = parse({"--url", "http://127.0.0.1:8001,http://127.0.0.2:8002", "--threads", "4"});
    auto const* o = std::get_if<loadgen_options>(&r);
    REQUIRE(o);
    REQUIRE(o->urls.size() == 2);
    CHECK(o->urls[0].port == 8001);
    CHECK(o->urls[1].host == "127.0.0.2");
    CHECK(o->urls[1].port == 8002);
    CHECK(error_of({"--url", "http://127.0.0.1:8001,http://127.0.0.1:8002", "--threads", "3"}).find("multiple") !=
          std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:8001,http://example.com:80"}).find("loopback") != std::string::npos);
}

TEST_CASE("bad values and combinations are refused with the reason", "[loadgen]") {
    CHECK(error_of({"--subscribers", "1"}).find("--url is required") != std::string::npos);
    CHECK(error_of({"--url", "http://example.com:80"}).find("loopback") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1"}).find("port") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80/x"}).find("without a path") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--threads", "65"}).find("1 to 64") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--subscribers", "2.5"}).find("whole number") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--max-seconds", "0"}).find("from 1") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--target", "nchan", "--mode", "resume"}).find("kinto-push only") !=
          std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--mode", "saturate", "--rate", "0"}).find("starting --rate") !=
          std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--source-addrs", "127.0.0.1,10.1.1.1"}).find("loopback") !=
          std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--server-pid", "x"}).find("process id") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--subscribers", "1000000", "--events", "100000000"})
              .find("too large") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--rate"}).find("needs a value") != std::string::npos);
    CHECK(error_of({"--url", "http://127.0.0.1:80", "--deflate", "yes"}).find("on or off") != std::string::npos);
    auto plain = parse({"--url", "http://127.0.0.1:80"});
    REQUIRE(std::holds_alternative<loadgen_options>(plain));
    CHECK_FALSE(std::get<loadgen_options>(plain).deflate);
    CHECK(std::holds_alternative<help_request>(parse({"--bogus", "--help"})));
}

TEST_CASE("transport and payload are read, and refused when unknown", "[loadgen]") {
    auto r = parse({"--url", "http://127.0.0.1:1", "--transport", "sse", "--payload", "large"});
    auto const* o = std::get_if<loadgen_options>(&r);
    REQUIRE(o);
    CHECK(o->transport == transport_kind::sse);
    CHECK(o->payload == payload_kind::large);
    auto d = parse({"--url", "http://127.0.0.1:1", "--transport", "ws-deflate", "--payload", "typical"});
    REQUIRE(std::get_if<loadgen_options>(&d));
    CHECK(std::get<loadgen_options>(d).transport == transport_kind::ws_deflate);
    CHECK(std::get<loadgen_options>(d).payload == payload_kind::typical);
    auto const defaults = parse({"--url", "http://127.0.0.1:1"});
    CHECK(std::get<loadgen_options>(defaults).transport == transport_kind::ws);
    CHECK(std::get<loadgen_options>(defaults).payload == payload_kind::bench);
    CHECK(error_of({"--url", "http://127.0.0.1:1", "--transport", "h2"}).find("--transport h2") == 0);
    CHECK(error_of({"--url", "http://127.0.0.1:1", "--payload", "huge"}).find("--payload huge") == 0);
    // --deflate on is --transport ws-deflate; it does not combine with SSE
    auto const alias = parse({"--url", "http://127.0.0.1:1", "--deflate", "on"});
    CHECK(std::get<loadgen_options>(alias).transport == transport_kind::ws_deflate);
    CHECK(error_of({"--url", "http://127.0.0.1:1", "--transport", "sse", "--deflate", "on"}).find("not --transport sse") !=
          std::string::npos);
}
