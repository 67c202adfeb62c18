#pragma once
// Runs the --exec command for one event at a time: /bin/sh -c CMD with the event's JSON on
// stdin and its position in KINTO_PUSH_* variables; reports how it ended on an executor.

#include <boost/asio/any_io_executor.hpp>

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace kp::cli {

class event_runner {
public:
    struct event {
        std::string channel;
        std::string epoch;
        std::uint64_t offset = 0;
        std::string action;                      // payload.action; empty when absent
        std::optional<std::int64_t> timestamp;
        std::string uri;                         // payload.uri; empty when absent
        std::string frame;                       // the frame as received
    };
    struct outcome {
        bool started = false;        // false: the command could not be run (see error)
        bool exited = false;         // ended with exit(); otherwise killed by `signal`
        int exit_code = 0;
        int signal = 0;
        std::string error;
    };
    using handler = std::function<void(outcome)>;

    event_runner(boost::asio::any_io_executor executor, std::string command);
    ~event_runner();   // kills a command still running and waits for it
    event_runner(event_runner const&) = delete;
    event_runner& operator=(event_runner const&) = delete;

    // Starts the command for `e`; `done` runs on the executor when it ended. One at a time.
    void run(event const& e, handler done);
    bool busy() const { return child_ > 0; }
    // Sends `signal` to the running command, if any.
    void signal(int signal) const;

private:
    boost::asio::any_io_executor executor_;
    std::string command_;
    pid_t child_ = -1;
    std::thread waiter_;   // feeds stdin, then waits for the child; posts the outcome
};

}  // namespace kp::cli
