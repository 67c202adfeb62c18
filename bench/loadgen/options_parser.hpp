#pragma once
// kp-loadgen's command line: --name VALUE or --name=VALUE, every number range-checked.

#include "bench/loadgen/loadgen_options.hpp"

#include <string>
#include <variant>
#include <vector>

namespace kp::loadgen {

struct usage_error {
    std::string message;
};
struct help_request {};

class options_parser {
public:
    static std::variant<loadgen_options, usage_error, help_request> parse(std::vector<std::string> const& args);
    static std::string usage();
};

}  // namespace kp::loadgen
