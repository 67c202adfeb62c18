#pragma once
// One open WebSocket connection to the server, plain or TLS; keeps Beast out of the classes
// that use it (ws_dialer.cpp implements it). Every method runs on the io_context's thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace kp::cli {

class ws_connection {
public:
    struct read_result {
        bool ok = false;
        std::string text;               // the message, when ok
        std::uint16_t close_code = 0;   // otherwise: the server's close code, 1006 without one
        std::string close_reason;
        std::string error;              // what failed, when there was no close frame
    };

    virtual ~ws_connection() = default;

    // Reads the next message. One read at a time.
    virtual void read(std::function<void(read_result)> done) = 0;
    // Queues a text message; a failure shows in the pending read.
    virtual void send(std::string text) = 0;
    // Sends a close frame after the queued messages and waits (within a few seconds) for the
    // server's; `done` runs in every case.
    virtual void close(std::uint16_t code, std::function<void()> done) = 0;
    // Nothing received for this long (despite our pings) means the connection is dead.
    virtual void set_idle_timeout(std::chrono::seconds timeout) = 0;
    // Drops the connection at once: pending operations complete with an error.
    virtual void abort() = 0;
};

}  // namespace kp::cli
