#include "push/broadcast_table.hpp"

#include <unordered_map>

namespace kp::push {

std::size_t broadcast_table::deliver(broadcast_change const& change) {
    std::unordered_map<std::uint64_t, frame_ptr> frames;   // part of the change -> its frame
    std::size_t sent = 0;
    for (auto* s : subscribers_) {
        auto& client = s->broadcasts();
        std::uint64_t const mask = client.stale_in(change);
        if (!mask) continue;
        auto& frame = frames[mask];
        if (!frame) frame = change.frame_for(mask);
        client.sent(change, mask);
        s->send_broadcast(frame);
        ++sent;
    }
    return sent;
}

}  // namespace kp::push
