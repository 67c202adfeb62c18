// kinto-push: WebSocket push server for Kinto. Parses the command line, sets up logging and
// runs the server until SIGTERM/SIGINT.

#include "clients/cli/tail_command.hpp"
#include "server/config_loader.hpp"
#include "server/server.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
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
        std::cout << "kinto-push " KINTO_PUSH_VERSION "\n";
        return 0;
    }

    auto logger = spdlog::stderr_color_mt("kinto-push");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(cmd.config.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

    try {
        server s(cmd.config);
        return s.run();
    } catch (std::exception const& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
}
