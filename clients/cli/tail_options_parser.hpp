#pragma once
// Turns the arguments after `kinto-push tail` into tail_options, or says why it cannot (a
// usage error: exit code 2) or that --help was asked for.

#include "clients/cli/tail_options.hpp"

#include <string>
#include <variant>
#include <vector>

namespace kp::cli {

struct usage_error {
    std::string message;   // names the option and the bad value
};

struct help_request {};

class tail_options_parser {
public:
    static std::variant<tail_options, usage_error, help_request> parse(std::vector<std::string> const& args);
    // The --help text.
    static std::string usage();
    static constexpr char const* default_url = "ws://127.0.0.1:8080/v1/ws";
};

}  // namespace kp::cli
