#pragma once
// The broadcast subscribers of one shard. Used only from that shard's thread, so it has no
// lock.

#include "push/broadcast_change.hpp"
#include "push/broadcast_subscriber.hpp"

#include <cstddef>
#include <unordered_set>

namespace kp::push {

class broadcast_table {
public:
    void add(broadcast_subscriber* s) { subscribers_.insert(s); }
    void remove(broadcast_subscriber* s) { subscribers_.erase(s); }
    std::size_t size() const { return subscribers_.size(); }

    // Sends each subscriber the part of `change` it needs. Subscribers that need all of it
    // share the change's frame; a frame for a smaller part is built once per shard and
    // shared too. Returns the number of frames sent.
    std::size_t deliver(broadcast_change const& change);

private:
    std::unordered_set<broadcast_subscriber*> subscribers_;
};

}  // namespace kp::push
