#pragma once
// The next request of one webhook on one channel, read from the history: the plan
// (webhooks::delivery_plan), the events it names and the signed-once body. Reads may touch
// the disk or Redis: call on the blocking pool.

#include "channels/channel_hub.hpp"
#include "webhooks/delivery_plan.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace kp::server {

struct prepared_delivery {
    std::string channel;
    std::string type;              // kinto.event, kinto.events or kinto.resync
    std::uint64_t first = 0;       // offsets of the events sent (0 for a resync)
    std::uint64_t last = 0;
    std::size_t events = 0;
    webhooks::cursor_position after;   // the position once acknowledged
    std::string body;
    std::string delivery_id;       // webhook-id: the same for every attempt at these events
    std::int64_t oldest_ms = 0;    // Kinto timestamp of its first event (0 for a resync)
};

struct delivery_lookup {
    std::optional<prepared_delivery> next;   // nothing: the webhook is up to date on the channel
    std::uint64_t last_offset = 0;           // the channel's last offset, for the lag
};

class delivery_builder {
public:
    static delivery_lookup prepare(channels::channel_hub& hub, std::string const& webhook_id, std::string const& channel,
                                   webhooks::cursor_position const& at, unsigned max_batch, std::int64_t now_ms);
};

}  // namespace kp::server
