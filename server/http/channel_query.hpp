#pragma once
// What a request to the channel information endpoints asks (PROTOCOL.md section 8), without a
// socket:
//   GET /v1/channels?prefix=P[&limit=N]   the channels whose name starts with P (empty or
//                                         starting with /buckets), at most N (default 100; a
//                                         limit over 1000 is cut to 1000; 0 or not a number: 400)
//   GET /v1/channels/{channel}            one channel, named either percent-encoded
//                                         (/v1/channels/%2Fbuckets%2Fblog) or as a path
//                                         (/v1/channels/buckets/blog): the path after
//                                         /v1/channels/ is decoded, and a leading '/' added
//                                         when it has none.
// Other query parameters are ignored.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kp::server {

struct channel_query {
    static constexpr std::size_t default_limit = 100;
    static constexpr std::size_t max_limit = 1000;

    std::optional<std::string> channel;   // set: one channel; unset: a listing
    std::string prefix;
    std::size_t limit = default_limit;

    // A request target under /v1/channels: the query, or a message for a 400 answer.
    static std::variant<channel_query, std::string> parse(std::string_view target);

    // The listing: `names` (unsorted, repeats allowed) sorted, made unique, kept when `covered`
    // says so, cut to `limit`. `more` says the limit cut it.
    struct selection {
        std::vector<std::string> channels;
        bool more = false;
    };
    static selection select(std::vector<std::string> names, std::function<bool(std::string const&)> const& covered,
                            std::size_t limit);
};

}  // namespace kp::server
