#include "clients/cli/tail_command.hpp"

#include "clients/cli/exit_codes.hpp"
#include "clients/cli/position_store.hpp"
#include "clients/cli/tail_client.hpp"
#include "clients/cli/tail_options_parser.hpp"

#include <signal.h>
#include <unistd.h>

#include <exception>
#include <iostream>
#include <variant>

namespace kp::cli {

int tail_command::run(std::vector<std::string> const& args) {
    auto parsed = tail_options_parser::parse(args);
    if (std::holds_alternative<help_request>(parsed)) {
        std::cout << tail_options_parser::usage();
        return exit_codes::stopped;
    }
    if (auto const* error = std::get_if<usage_error>(&parsed)) {
        std::cerr << "kinto-push tail: " << error->message << "\n";
        return exit_codes::usage;
    }
    auto options = std::get<tail_options>(std::move(parsed));

    if (options.ca_file && ::access(options.ca_file->c_str(), R_OK) != 0) {
        std::cerr << "kinto-push tail: --ca-file " << *options.ca_file << ": cannot be read\n";
        return exit_codes::usage;
    }

    position_store::positions saved;
    if (options.state_file) {
        auto loaded = position_store(*options.state_file).load();
        if (auto const* error = std::get_if<std::string>(&loaded)) {
            std::cerr << "kinto-push tail: --state: " << *error << "\n";
            return exit_codes::failure;
        }
        saved = std::get<position_store::positions>(std::move(loaded));
    }

    // A closed stdout, or an --exec command that does not read its stdin, is an error to
    // report, not a reason to die silently.
    ::signal(SIGPIPE, SIG_IGN);
    try {
        tail_client client(std::move(options), std::move(saved));
        return client.run();
    } catch (std::exception const& e) {
        std::cerr << "kinto-push tail: " << e.what() << "\n";
        return exit_codes::failure;
    }
}

}  // namespace kp::cli
