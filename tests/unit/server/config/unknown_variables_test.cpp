// server/config/unknown_variables: a KINTO_PUSH_* variable that names no option is warned about,
// with the known variables closest to it.

#include "server/config/config_loader.hpp"
#include "server/config/unknown_variables.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

using kp::server::command;
using kp::server::config_loader;
using kp::server::unknown_variables;

TEST_CASE("unknown_variables: the closest known names, within a third of the length", "[config][refusals]") {
    std::vector<std::string> const known{"SHARDS", "STORE", "HEARTBEAT", "JWT_SECRET", "JWT_SECRET_FILE"};
    CHECK(unknown_variables::closest("SHARD", known) == std::vector<std::string>{"SHARDS"});
    CHECK(unknown_variables::closest("HEARTBEET", known) == std::vector<std::string>{"HEARTBEAT"});
    CHECK(unknown_variables::closest("JWT_SECRT", known) == std::vector<std::string>{"JWT_SECRET"});
    CHECK(unknown_variables::closest("SOMETHING_ELSE", known).empty());
    CHECK(unknown_variables::closest("BIN", known).empty());
}

TEST_CASE("a misspelled KINTO_PUSH_* variable is warned about, naming the close ones", "[config][refusals]") {
    auto const loaded = config_loader::load({}, {{"KINTO_PUSH_PUBLISH_SECRT", "x"},
                                                 {"KINTO_PUSH_HEARTBEAT", "7"},
                                                 {"KINTO_PUSH_CONFIG_", "y"},
                                                 {"KINTO_PUSH_shards", "3"},
                                                 {"KINTO_PUSH_SOMETHING_ELSE", "z"}});
    REQUIRE(std::holds_alternative<command>(loaded));
    auto const& warnings = std::get<command>(loaded).warnings;
    REQUIRE(warnings.size() == 4);   // not KINTO_PUSH_HEARTBEAT, a known one
    CHECK(warnings[0] == "KINTO_PUSH_CONFIG_ is not a kinto-push variable (ignored); did you mean KINTO_PUSH_CONFIG?");
    CHECK(warnings[1] ==
          "KINTO_PUSH_PUBLISH_SECRT is not a kinto-push variable (ignored); did you mean KINTO_PUSH_PUBLISH_SECRET?");
    CHECK(warnings[2] == "KINTO_PUSH_SOMETHING_ELSE is not a kinto-push variable (ignored)");
    CHECK(warnings[3] == "KINTO_PUSH_shards is not a kinto-push variable (ignored); did you mean KINTO_PUSH_SHARDS?");
    CHECK(std::get<command>(config_loader::load({}, {{"KINTO_PUSH_HEARTBEAT", "7"}})).warnings.empty());
}
