// kp-loadgen: the WebSocket load generator of the benchmarks (see options_parser::usage()).

#include "bench/loadgen/load_run.hpp"
#include "bench/loadgen/options_parser.hpp"
#include "bench/loadgen/run_report.hpp"

#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

namespace {

// Every connection is a file descriptor: take the whole hard limit.
void raise_file_limit() {
    rlimit l{};
    if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
        l.rlim_cur = l.rlim_max;
        setrlimit(RLIMIT_NOFILE, &l);
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace kp::loadgen;
    auto parsed = options_parser::parse(std::vector<std::string>(argv + 1, argv + argc));
    if (std::holds_alternative<help_request>(parsed)) {
        std::cout << options_parser::usage();
        return 0;
    }
    if (auto const* e = std::get_if<usage_error>(&parsed)) {
        std::cerr << "kp-loadgen: " << e->message << "\n";
        return 2;
    }
    auto options = std::get<loadgen_options>(parsed);
    std::signal(SIGPIPE, SIG_IGN);
    raise_file_limit();
    rlimit l{};
    getrlimit(RLIMIT_NOFILE, &l);
    if (options.subscribers + options.publishers + 64 > l.rlim_cur)
        std::cerr << "kp-loadgen: warning: " << options.subscribers << " connections need more file descriptors than "
                  << "this process may open (" << l.rlim_cur << "); the rest will fail\n";

    // Last resort: the run's own waits end at --max-seconds; if anything hangs past that, exit.
    std::thread([limit = options.max_seconds] {
        std::this_thread::sleep_for(std::chrono::duration<double>(limit + 30));
        std::cerr << "kp-loadgen: still running 30 s after --max-seconds; exiting\n";
        std::_Exit(3);
    }).detach();

    nlohmann::json report;
    {
        load_run run(options);
        report = run.execute();
    }
    std::cout << run_report::text(report) << std::flush;
    if (options.json_out) {
        if (*options.json_out == "-") {
            std::cout << report.dump(2) << "\n";
        } else {
            std::ofstream out(*options.json_out);
            out << report.dump(2) << "\n";
            if (!out) {
                std::cerr << "kp-loadgen: cannot write " << *options.json_out << "\n";
                return 1;
            }
        }
    }
    bool const failed = report.value("cut_by_max_seconds", false) ||
                        (options.subscribers > 0 && report["connections"].value("established", 0) == 0);
    return failed ? 1 : 0;
}
