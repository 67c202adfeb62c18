#include "push/client_broadcasts.hpp"

namespace kp::push {

using json = nlohmann::ordered_json;

json client_broadcasts::subscribe(json const& requested, broadcast_registry const& registry) {
    json answer = json::object();
    json errors = json::object();
    auto const published = registry.versions();
    for (auto const& [id, version] : requested.items()) {
        auto index = registry.index_of(id);
        if (!index) {
            errors[id] = "Broadcast not found";
            continue;
        }
        subscribed_ |= std::uint64_t{1} << *index;
        auto const& current = published[*index];
        auto const& theirs = version.get_ref<std::string const&>();
        // A broadcast whose channel has had no event yet has no version: nothing to announce.
        if (!current.empty() && current != theirs) {
            answer[id] = current;
            held_[*index] = current;
        } else {
            held_[*index] = theirs;
        }
    }
    if (!errors.empty()) answer["errors"] = std::move(errors);
    return answer;
}

std::uint64_t client_broadcasts::stale_in(broadcast_change const& change) const {
    std::uint64_t mask = 0;
    for (auto const& e : change.entries()) {
        std::uint64_t const bit = std::uint64_t{1} << e.index;
        if ((subscribed_ & bit) && held_[e.index] != e.version) mask |= bit;
    }
    return mask;
}

void client_broadcasts::sent(broadcast_change const& change, std::uint64_t mask) {
    for (auto const& e : change.entries())
        if (mask & (std::uint64_t{1} << e.index)) held_[e.index] = e.version;
}

}  // namespace kp::push
