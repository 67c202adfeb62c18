// kinto-push: WebSocket push server for Kinto. Parses the command line, sets up logging and
// runs the server until SIGTERM/SIGINT.

#include "clients/cli/tail_command.hpp"
#include "server/build_info.hpp"
#include "server/config/config_loader.hpp"
#include "server/telemetry/log_setup.hpp"
#include "server/server.hpp"

#include <spdlog/spdlog.h>

#include <iostream>
#include <variant>

int main(int argc, char** argv) {
    using namespace kp::server;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "tail") return kp::cli::tail_command::run({args.begin() + 1, args.end()});
    auto loaded = config_loader::load(args, config_loader::process_environment());
    if (auto const* error = std::get_if<config_error>(&loaded)) {
        std::cerr << "kinto-push: " << error->message << "\n";
        return 2;
    }
    auto const& cmd = std::get<command>(loaded);
    if (cmd.what == command::action::help) {
        std::cout << config_loader::help();
        return 0;
    }
    if (cmd.what == command::action::version) {
        std::cout << "kinto-push " << build_info::version() << " (commit " << build_info::commit() << ", "
                  << build_info::build_type() << ")\n";
        return 0;
    }
    if (cmd.what == command::action::print_config) {
        // Refuses exactly what start-up refuses, with the same message, and warns as it does.
        for (auto const& warning : cmd.warnings) std::cerr << "kinto-push: warning: " << warning << "\n";
        try {
            server::check(cmd.config);
        } catch (std::exception const& e) {
            std::cerr << "kinto-push: cannot start: " << e.what() << "\n";
            return 1;
        }
        std::cout << config_loader::effective(cmd.config).dump(2) << "\n";
        return 0;
    }

    setup_logging(cmd.config.log_level, cmd.config.log_format);
    for (auto const& warning : cmd.warnings) spdlog::warn("{}", warning);

    try {
        server s(cmd.config);
        return s.run();
    } catch (std::exception const& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
}
