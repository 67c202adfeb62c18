#pragma once
// The texts the Redis scripts write and kinto-push reads back:
//  - a published transaction (one Pub/Sub message): for each event part, back to back,
//    "CHANNEL\nOFFSET\nTIMESTAMP\nSTORED_AT\nBODY_BYTES\nBODY" (channel names hold no newline);
//  - a dedupe key's value: the event's offsets, "OFFSET CHANNEL\n" per channel;
//  - a stream entry: ID "OFFSET-0", fields ts, at, body.

#include "store/history_types.hpp"
#include "store/redis_reply.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kp::store {

class redis_wire_format {
public:
    // Nothing when the text is malformed.
    static std::optional<std::vector<event_record>> decode_transaction(std::string_view text);
    static std::optional<std::vector<channel_offset>> decode_offsets(std::string_view text);
    // The entries of an XRANGE reply on `channel`'s stream; nothing when the reply is not one.
    static std::optional<std::vector<event_record>> decode_entries(std::string const& channel,
                                                                   redis_reply const& reply);
    // The offset of a stream ID "OFFSET-0".
    static std::optional<std::uint64_t> offset_of(std::string_view id);
};

}  // namespace kp::store
