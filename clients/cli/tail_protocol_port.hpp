#pragma once
// What tail_protocol asks of the client that owns the connection (tail_client; a scripted
// port in the unit tests). Every call runs on the client's thread, inside tail_protocol's.

#include "clients/cli/event_runner.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace kp::cli {

class tail_protocol_port {
public:
    virtual ~tail_protocol_port() = default;

    // Sends a text frame to the server.
    virtual void send(std::string frame) = 0;
    // A status line for people (stderr).
    virtual void note(std::string const& message) = 0;
    // The server welcomed us: the connection attempt succeeded; silence for `idle_timeout`
    // means the connection is dead.
    virtual void welcomed(std::chrono::seconds idle_timeout) = 0;
    // A subscription was accepted (retries of refused ones start again from the shortest delay).
    virtual void subscribed() = 0;
    // The positions changed: write them to --state.
    virtual void save() = 0;
    // An event to handle, in order, after those taken before it.
    virtual void take(event_runner::event e) = 0;
    // A subscription was refused for a reason that may pass: subscribe again later.
    virtual void retry_subscribe(std::string const& channel, std::string const& why) = 0;
    // Ends the command with `code` (exit_codes), closing the connection with `close_code`.
    virtual void fatal(int code, std::string const& message, std::uint16_t close_code) = 0;
};

}  // namespace kp::cli
