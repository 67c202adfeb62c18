#pragma once
// `kinto-push tail`: the command-line client. Parses its options, loads the --state file and
// runs the tail client; main() hands it the arguments after `tail`.

#include <string>
#include <vector>

namespace kp::cli {

class tail_command {
public:
    // `args` excludes `kinto-push tail`. Returns the process's exit code (exit_codes).
    static int run(std::vector<std::string> const& args);
};

}  // namespace kp::cli
