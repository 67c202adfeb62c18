#pragma once
// Something on a shard that receives broadcasts (an Autopush WebSocket session).

#include "push/broadcast_change.hpp"
#include "push/client_broadcasts.hpp"

namespace kp::push {

class broadcast_subscriber {
public:
    virtual ~broadcast_subscriber() = default;
    virtual client_broadcasts& broadcasts() = 0;
    // Runs on the subscriber's shard thread. Must not leave the broadcast_table at once
    // (it is being walked): leave it from a posted handler.
    virtual void send_broadcast(frame_ptr const& frame) = 0;
};

}  // namespace kp::push
