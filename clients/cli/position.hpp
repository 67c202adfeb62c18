#pragma once
// Where the tail command stands on one channel: the last event it handled (or the channel's
// head when it subscribed), in the numbering of one history (epoch).

#include <cstdint>
#include <optional>
#include <string>

namespace kp::cli {

struct position {
    std::string epoch;
    std::uint64_t offset = 0;
    std::optional<std::int64_t> timestamp;   // of the last handled event; unknown before the first

    bool operator==(position const&) const = default;
};

}  // namespace kp::cli
