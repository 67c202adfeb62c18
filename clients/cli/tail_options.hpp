#pragma once
// What `kinto-push tail` was asked to do: the server, the channels and how to handle events.

#include "clients/cli/ws_url.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kp::cli {

struct tail_options {
    ws_url url;
    std::vector<std::string> channels;        // valid channel names, without duplicates, in order
    std::optional<std::string> token;         // Authorization: Bearer <token> (as is if it has a scheme)
    std::optional<std::string> state_file;    // positions, reloaded at start and saved per event
    std::optional<std::string> exec;          // run through /bin/sh -c once per event
    std::optional<std::string> ca_file;       // wss: trust these CAs instead of the system's
    bool insecure = false;                    // wss: no certificate or host name check
    std::optional<std::uint64_t> max_retries; // consecutive failed attempts; none: unlimited
};

}  // namespace kp::cli
