#pragma once
// One call of the publish script (redis_scripts::publish) for a group of transactions: the
// arguments it reads (ARGV), and its answer read back into what each event was given plus the
// highest new offset per channel, which redis_store waits to see announced. Socket-free.
//
// Arguments: prefix, epoch, max events, TTL in seconds (at least 1), topic, the number of
// transactions, then per transaction its number of events and per event its dedupe key, its
// number of parts and per part channel, timestamp, body.
// Answer: per transaction, per event, {duplicate (0 or 1), its offsets (redis_wire_format)}.

#include "store/history_types.hpp"
#include "store/redis_reply.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace kp::store {

class redis_publish_call {
public:
    struct answer {
        std::vector<std::vector<appended_event>> appended;   // per transaction, per event
        // Channel -> highest offset given to a new (not duplicate) event.
        std::unordered_map<std::string, std::uint64_t> awaited;
    };

    static std::vector<std::string> arguments(std::string const& prefix, std::string const& epoch,
                                              retention const& limits, std::string const& topic,
                                              std::span<std::vector<append_event> const> transactions);

    // Nothing when `reply` is not the script's answer for `transactions` (its shape, its
    // counts, an offsets text). An error reply is the caller's to read first.
    static std::optional<answer> read_answer(redis_reply const& reply,
                                             std::span<std::vector<append_event> const> transactions);
};

}  // namespace kp::store
