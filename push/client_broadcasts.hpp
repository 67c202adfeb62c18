#pragma once
// The broadcasts one Autopush client listens to, and the version it holds of each: what a
// `hello` or `broadcast_subscribe` answers, and which part of a change it still needs. No
// lock: one connection's state, used on its shard.

#include "push/broadcast_change.hpp"
#include "push/broadcast_registry.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kp::push {

class client_broadcasts {
public:
    explicit client_broadcasts(std::size_t count) : held_(count) {}

    // Adds the broadcasts of `requested` (an object of id -> the client's version, strings
    // only: the caller checks) and returns the answer's `broadcasts`: each known id whose
    // published version differs from the client's, and the unknown ids under "errors"
    // ({"errors": {"id": "Broadcast not found"}}), as Autopush does. Empty when there is
    // nothing to say.
    nlohmann::ordered_json subscribe(nlohmann::ordered_json const& requested, broadcast_registry const& registry);

    // The broadcasts of `change` this client listens to and does not hold yet.
    std::uint64_t stale_in(broadcast_change const& change) const;
    // Records that the client was sent `change`'s versions of the broadcasts in `mask`.
    void sent(broadcast_change const& change, std::uint64_t mask);

    std::uint64_t subscribed() const { return subscribed_; }
    std::string const& held(std::size_t index) const { return held_[index]; }

private:
    std::uint64_t subscribed_ = 0;
    std::vector<std::string> held_;   // by registry index
};

}  // namespace kp::push
