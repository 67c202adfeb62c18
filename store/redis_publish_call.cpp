#include "store/redis_publish_call.hpp"

#include "store/redis_wire_format.hpp"

#include <algorithm>

namespace kp::store {

std::vector<std::string> redis_publish_call::arguments(std::string const& prefix, std::string const& epoch,
                                                       retention const& limits, std::string const& topic,
                                                       std::span<std::vector<append_event> const> transactions) {
    std::vector<std::string> args{prefix, epoch, std::to_string(limits.max_events),
                                  std::to_string(std::max<std::int64_t>(1, limits.max_age_ms / 1000)), topic,
                                  std::to_string(transactions.size())};
    for (auto const& transaction : transactions) {
        args.push_back(std::to_string(transaction.size()));
        for (auto const& event : transaction) {
            args.push_back(event.dedupe_key);
            args.push_back(std::to_string(event.entries.size()));
            for (auto const& entry : event.entries) {
                args.push_back(entry.channel);
                args.push_back(std::to_string(entry.timestamp));
                args.push_back(entry.body);
            }
        }
    }
    return args;
}

std::optional<redis_publish_call::answer> redis_publish_call::read_answer(
    redis_reply const& reply, std::span<std::vector<append_event> const> transactions) {
    if (reply.type != redis_reply::kind::array || reply.elements.size() != transactions.size()) return std::nullopt;
    answer out;
    for (std::size_t t = 0; t < transactions.size(); ++t) {
        auto const& events = reply.elements[t];
        if (events.type != redis_reply::kind::array || events.elements.size() != transactions[t].size())
            return std::nullopt;
        std::vector<appended_event> result;
        for (auto const& event : events.elements) {
            if (event.elements.size() != 2) return std::nullopt;
            auto offsets = redis_wire_format::decode_offsets(event.elements[1].text);
            if (!offsets) return std::nullopt;
            bool const duplicate = event.elements[0].integer == 1;
            if (!duplicate)
                for (auto const& o : *offsets) out.awaited[o.channel] = std::max(out.awaited[o.channel], o.offset);
            result.push_back({std::move(*offsets), duplicate});
        }
        out.appended.push_back(std::move(result));
    }
    return out;
}

}  // namespace kp::store
