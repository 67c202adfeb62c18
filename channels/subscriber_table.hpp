#pragma once
// The subscribers of each channel on one shard. Used only from that shard's thread, so it
// has no lock.

#include "channels/message.hpp"
#include "channels/subscriber.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace kp::channels {

class subscriber_table {
public:
    // False when `s` already holds `channel`.
    bool add(std::string const& channel, subscriber* s);
    // False when `s` did not hold `channel`.
    bool remove(std::string const& channel, subscriber* s);
    // Delivers each message of the batch to the channel's subscribers, in order.
    void deliver(std::vector<message_ptr> const& batch);
    std::size_t channel_count() const { return channels_.size(); }
    std::size_t subscriber_count(std::string const& channel) const;

private:
    std::unordered_map<std::string, std::vector<subscriber*>> channels_;
    std::uint64_t batches_ = 0;
};

}  // namespace kp::channels
