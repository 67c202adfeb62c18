#pragma once
// Reads the server's settings from flags, KINTO_PUSH_* environment variables and a JSON
// --config file (in that order of precedence, over the defaults), and validates every value.

#include "server/config/option_table.hpp"
#include "server/config/server_config.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <variant>
#include <vector>

namespace kp::server {

struct config_error {
    std::string message;   // names the flag, variable or file and the bad value
};

// What the command line asks for.
struct command {
    enum class action { serve, help, version, print_config };
    action what = action::serve;
    server_config config;
    std::vector<std::string> warnings;   // for the log once it is set up (misspelled variables)
};

class config_loader {
public:
    using environment = std::map<std::string, std::string>;

    // `args` excludes the program name. `env` holds the process environment.
    static std::variant<command, config_error> load(std::vector<std::string> const& args,
                                                    environment const& env);
    static environment process_environment();
    // The --help text: every option, its environment variable and its default.
    static std::string help();
    // The effective configuration as a JSON object keyed by option names (--print-config):
    // secrets read "********", options not set are null.
    static nlohmann::ordered_json effective(server_config const& config);
    // Every option's name, without the dashes, in --help order.
    static std::vector<std::string> option_names();
    static constexpr char const* mask = option_table::mask;
};

}  // namespace kp::server
