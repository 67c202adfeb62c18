#pragma once
// Reads the server's settings from flags, KINTO_PUSH_* environment variables and a JSON
// --config file (in that order of precedence, over the defaults), and validates every value.

#include "server/server_config.hpp"

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
    enum class action { serve, help, version };
    action what = action::serve;
    server_config config;
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
};

}  // namespace kp::server
