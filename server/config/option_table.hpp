#pragma once
// Every option of the server, once: its flag, placeholder, default (as --help shows it) and
// meaning, and the setter that validates a value and stores it in server_config. Flags, the
// KINTO_PUSH_* environment, --config, --help and --print-config are all built from it.

#include "server/config/server_config.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kp::server {

struct option_spec {
    // Stores the value, or says why it is refused ("must be a whole number from 1 to 256").
    using setter = std::function<std::optional<std::string>(server_config&, std::string const&)>;

    char const* name;          // flag without the leading dashes
    char const* placeholder;   // "" for a switch: `--name` alone means true (`--name=false` too)
    char const* fallback;      // the default, as --help shows it
    char const* meaning;
    setter apply;
};

class option_table {
public:
    // Every option, in --help order.
    static std::vector<option_spec> const& all();
    // The option named `name` (without the dashes), or null.
    static option_spec const* find(std::string const& name);
    // The environment variable of an option: KINTO_PUSH_ and the name in upper snake case.
    static std::string env_name(std::string const& option);
    // HOST:PORT as --listen and --metrics-listen take it ([HOST]:PORT for IPv6).
    static std::string host_port(std::string const& host, std::uint16_t port);
    // What --print-config shows for a secret; refused as a secret's value (output fed back).
    static constexpr char const* mask = "********";
};

}  // namespace kp::server
