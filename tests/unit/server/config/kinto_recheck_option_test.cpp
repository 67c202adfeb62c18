// --kinto-recheck (server/config): how often a subscription Kinto allowed is asked about again.

#include "server/config/config_loader.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

using kp::server::command;
using kp::server::config_error;
using kp::server::config_loader;

namespace {

std::variant<command, config_error> load(std::vector<std::string> const& args,
                                         config_loader::environment const& env = {}) {
    return config_loader::load(args, env);
}

std::int64_t recheck_of(std::variant<command, config_error> const& result) {
    auto const* cmd = std::get_if<command>(&result);
    REQUIRE(cmd != nullptr);
    return cmd->config.kinto_recheck_s;
}

}  // namespace

TEST_CASE("option --kinto-recheck: 60 s by default, from a flag or the environment, shown by --print-config",
          "[config][recheck]") {
    CHECK(recheck_of(load({})) == 60);
    CHECK(recheck_of(load({"--kinto-recheck", "5"})) == 5);
    CHECK(recheck_of(load({}, {{"KINTO_PUSH_KINTO_RECHECK", "7"}})) == 7);
    auto const loaded = load({"--kinto-recheck", "9"});
    auto const* cmd = std::get_if<command>(&loaded);
    REQUIRE(cmd != nullptr);
    CHECK(config_loader::effective(cmd->config)["kinto-recheck"] == 9);
    CHECK_THAT(config_loader::help(), Catch::Contains("--kinto-recheck"));
}

TEST_CASE("option --kinto-recheck: 0, negative, fractional or too large values are refused, naming the option",
          "[config][recheck]") {
    for (std::string bad : {"0", "-1", "1.5", "86401", "soon"}) {
        INFO(bad);
        auto result = load({"--kinto-recheck", bad});
        auto const* error = std::get_if<config_error>(&result);
        REQUIRE(error != nullptr);
        CHECK_THAT(error->message, Catch::Contains("--kinto-recheck"));
    }
}
