#pragma once
// A session the shard can ask to end when the server shuts down.

namespace kp::server {

class closeable {
public:
    virtual ~closeable() = default;
    // Runs on the session's shard thread. WebSockets close with 1001, HTTP connections end.
    virtual void shutdown() = 0;
};

}  // namespace kp::server
