#pragma once
// A session the shard can ask to end when the server shuts down (or its history was lost),
// and that the shard's sweep visits for its keep-alive and deadlines.

#include <chrono>

namespace kp::server {

class closeable {
public:
    virtual ~closeable() = default;
    // Runs on the session's shard thread. WebSockets close with 1001, HTTP connections end.
    virtual void shutdown() = 0;
    // Runs on the shard thread every sweep period (see shard::start). Must not end the
    // session synchronously (close sockets; completions come later).
    virtual void tick(std::chrono::steady_clock::time_point) {}
    // Runs on the session's shard thread when the shared history was lost (a new epoch):
    // WebSockets close with 1001 so that their clients resume and resync; others carry on.
    virtual void history_lost() {}
};

}  // namespace kp::server
