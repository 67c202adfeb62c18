#include "channels/subscriber_table.hpp"

#include <algorithm>

namespace kp::channels {

bool subscriber_table::add(std::string const& channel, subscriber* s) {
    auto& list = channels_[channel];
    if (std::find(list.begin(), list.end(), s) != list.end()) return false;
    list.push_back(s);
    return true;
}

bool subscriber_table::remove(std::string const& channel, subscriber* s) {
    auto it = channels_.find(channel);
    if (it == channels_.end()) return false;
    auto& list = it->second;
    auto pos = std::find(list.begin(), list.end(), s);
    if (pos == list.end()) return false;
    *pos = list.back();   // order among subscribers does not matter
    list.pop_back();
    if (list.empty()) channels_.erase(it);
    return true;
}

void subscriber_table::deliver(std::vector<message_ptr> const& batch) {
    std::uint64_t const serial = ++batches_;
    for (auto const& m : batch) {
        auto it = channels_.find(m->channel);
        if (it == channels_.end()) continue;
        // Sessions keep a reference to each message they queue. The message itself is shared
        // by every shard; a reference counted here, on this shard only, keeps thousands of
        // increments per message off the cache line the other shards count on.
        message_ptr const local(std::make_shared<message_ptr>(m), m.get());
        // A delivery never changes the table: sessions that must close do so asynchronously.
        for (subscriber* s : it->second) s->deliver(local, serial);
    }
}

std::size_t subscriber_table::subscriber_count(std::string const& channel) const {
    auto it = channels_.find(channel);
    return it == channels_.end() ? 0 : it->second.size();
}

}  // namespace kp::channels
