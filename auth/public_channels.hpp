#pragma once
// The channels anyone may subscribe to without credentials: the `--public-channels` list.
//
// parse(list): `list` is comma-separated channel patterns (see channel_pattern); spaces and
// tabs around an item are ignored, and so are empty items ("", "a,,b", a trailing comma), so
// an empty list gives an empty set. The error string names the first bad item and says what a
// pattern looks like; it is meant for a start-up error message. Naming the firehose
// `/buckets` is an error: it can never be public (PROTOCOL.md section 5).
//
// allows(channel): some pattern matches `channel`. Never true for the firehose `/buckets`,
// whatever the patterns. Thread-safe once built (const only).

#include "auth/channel_pattern.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kp::auth {

class public_channels {
public:
    static std::variant<public_channels, std::string> parse(std::string_view list);

    bool allows(std::string_view channel) const;
    bool empty() const { return patterns_.empty(); }
    // Without duplicates, in the order given: for the start-up log.
    std::vector<channel_pattern> const& patterns() const { return patterns_; }

private:
    explicit public_channels(std::vector<channel_pattern> patterns) : patterns_(std::move(patterns)) {}

    std::vector<channel_pattern> patterns_;
};

}  // namespace kp::auth
