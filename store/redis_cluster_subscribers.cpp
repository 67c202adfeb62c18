#include "store/redis_cluster_subscribers.hpp"

#include "store/redis_store.hpp"
#include "store/redis_webhook_scripts.hpp"
#include "store/store_error.hpp"

#include <algorithm>

namespace kp::store {

redis_cluster_subscribers::redis_cluster_subscribers(redis_store& redis)
    : redis_(redis),
      nodes_key_(redis.key_prefix() + "subscriber-nodes"),
      node_prefix_(redis.key_prefix() + "subscribers:") {}

void redis_cluster_subscribers::report(std::string const& node,
                                       std::vector<std::pair<std::string, std::uint64_t>> const& counts,
                                       std::chrono::milliseconds ttl) {
    std::vector<std::string> args{node, std::to_string(std::max<long long>(1, ttl.count()))};
    for (auto const& [channel, count] : counts) {
        if (count == 0) continue;
        args.push_back(channel);
        args.push_back(std::to_string(count));
    }
    auto reply = redis_.script(redis_webhook_scripts::report_subscribers, {nodes_key_, node_prefix_ + node}, args);
    if (reply.is_error()) throw store_error(redis_.describe() + ": subscriber counts: " + reply.text);
}

std::vector<std::uint64_t> redis_cluster_subscribers::totals(std::vector<std::string> const& channels) {
    if (channels.empty()) return {};
    std::vector<std::string> args{node_prefix_};
    args.insert(args.end(), channels.begin(), channels.end());
    auto reply = redis_.script(redis_webhook_scripts::total_subscribers, {nodes_key_}, args);
    if (reply.type != redis_reply::kind::array || reply.elements.size() != channels.size())
        throw store_error(redis_.describe() + ": subscriber counts: " +
                          (reply.is_error() ? reply.text : std::string("unexpected answer")));
    std::vector<std::uint64_t> out;
    out.reserve(channels.size());
    for (auto const& value : reply.elements)
        out.push_back(value.type == redis_reply::kind::integer && value.integer > 0
                          ? static_cast<std::uint64_t>(value.integer)
                          : 0);
    return out;
}

}  // namespace kp::store
