#pragma once
// One `--broadcast ID=CHANNEL`: an Autopush broadcast id and the channel whose latest event
// gives its version (docs/firefox.md).

#include <string>
#include <string_view>
#include <variant>

namespace kp::push {

struct broadcast_spec {
    std::string id;        // e.g. remote-settings/monitor_changes
    std::string channel;   // e.g. /buckets/main

    // `ID=CHANNEL`, or a message saying what is wrong with it. Ids follow Megaphone's rule:
    // BROADCASTER/NAME with [A-Za-z0-9_-], at most 64 and 128 characters.
    static std::variant<broadcast_spec, std::string> parse(std::string_view text);
    static bool valid_id(std::string_view id);

    friend bool operator==(broadcast_spec const&, broadcast_spec const&) = default;
};

}  // namespace kp::push
