#pragma once
// The exit codes of `kinto-push tail` (docs/cli.md): scripts and service managers act on them.

namespace kp::cli {

struct exit_codes {
    static constexpr int stopped = 0;        // SIGINT or SIGTERM: closed with 1000
    static constexpr int failure = 1;        // anything else (state file, --exec, TLS certificate, ...)
    static constexpr int usage = 2;          // bad command line
    static constexpr int auth = 3;           // close 4001, or a subscribe refused unauthorized/forbidden
    static constexpr int protocol = 4;       // close 4000 (or another protocol verdict)
    static constexpr int unreachable = 5;    // no connection within --max-retries
};

}  // namespace kp::cli
