#pragma once
// Something on a shard that receives a channel's live messages (a WebSocket session).

#include "channels/message.hpp"

#include <cstdint>

namespace kp::channels {

class subscriber {
public:
    virtual ~subscriber() = default;
    // Runs on the subscriber's shard thread. `batch` numbers the published transaction the
    // message belongs to (the same for every message of one transaction, on one shard).
    virtual void deliver(message_ptr const& m, std::uint64_t batch) = 0;
};

}  // namespace kp::channels
