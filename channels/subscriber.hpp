#pragma once
// Something on a shard that receives a channel's live messages (a WebSocket session).

#include "channels/message.hpp"

namespace kp::channels {

class subscriber {
public:
    virtual ~subscriber() = default;
    // Runs on the subscriber's shard thread.
    virtual void deliver(message_ptr const& m) = 0;
};

}  // namespace kp::channels
