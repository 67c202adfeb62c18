#include "session/recheck_schedule.hpp"

namespace kp::session {

void recheck_schedule::granted(std::string const& channel, std::int64_t now_ms) {
    if (!enabled()) return;
    entries_[channel] = entry{++tickets_, now_ms + period_ms_, false};
}

void recheck_schedule::forget(std::string const& channel) {
    entries_.erase(channel);
}

std::vector<recheck_schedule::question> recheck_schedule::due(std::int64_t now_ms, std::int64_t lead_ms) {
    std::vector<question> out;
    if (!enabled()) return out;
    for (auto& [channel, e] : entries_) {
        if (e.asking || e.next_ms > now_ms + lead_ms) continue;
        e.asking = true;
        out.push_back({channel, e.ticket, now_ms});
    }
    return out;
}

recheck_schedule::entry* recheck_schedule::current(question const& q) {
    auto it = entries_.find(q.channel);
    if (it == entries_.end() || it->second.ticket != q.ticket || !it->second.asking) return nullptr;
    return &it->second;
}

recheck_schedule::verdict recheck_schedule::answered(question const& q, access_decision answer) {
    auto* e = current(q);
    if (!e) return verdict::stale;
    switch (answer) {
    case access_decision::forbidden:
        entries_.erase(q.channel);
        return verdict::end_channel;
    case access_decision::unauthorized:
        entries_.erase(q.channel);
        return verdict::close_connection;
    case access_decision::allowed:
    case access_decision::unavailable:
        break;
    }
    e->asking = false;
    e->next_ms = q.asked_ms + period_ms_;
    return verdict::keep;
}

void recheck_schedule::reask(question const& q) {
    if (auto* e = current(q)) {
        e->asking = false;
        e->next_ms = q.asked_ms;
    }
}

}  // namespace kp::session
