#include "server/webhooks/webhook_board.hpp"

#include <algorithm>

namespace kp::server {

bool webhook_progress::retrying() const {
    return std::any_of(channels.begin(), channels.end(), [](auto const& c) { return c.second.failures > 0; });
}

void webhook_board::set_channel(std::string const& id, std::string const& channel, channel_progress progress) {
    std::lock_guard lock(mutex_);
    progress_[id].channels[channel] = std::move(progress);
}

void webhook_board::drop_channel(std::string const& id, std::string const& channel) {
    std::lock_guard lock(mutex_);
    if (auto it = progress_.find(id); it != progress_.end()) it->second.channels.erase(channel);
}

std::optional<webhook_progress> webhook_board::progress(std::string const& id) const {
    std::lock_guard lock(mutex_);
    auto it = progress_.find(id);
    if (it == progress_.end()) return std::nullopt;
    return it->second;
}

void webhook_board::add_attempt(std::string const& id, webhooks::delivery_attempt attempt) {
    std::lock_guard lock(mutex_);
    logs_[id].add(std::move(attempt));
}

std::vector<webhooks::delivery_attempt> webhook_board::attempts(std::string const& id, std::size_t limit) const {
    std::lock_guard lock(mutex_);
    auto it = logs_.find(id);
    if (it == logs_.end()) return {};
    return it->second.newest_first(limit);
}

std::vector<webhook_board::lag> webhook_board::lags(std::int64_t now_ms) const {
    std::lock_guard lock(mutex_);
    std::vector<lag> out;
    for (auto const& [id, progress] : progress_) {
        lag l{id};
        std::int64_t oldest = 0;
        for (auto const& [channel, c] : progress.channels) {
            l.events += c.pending_events;
            if (c.oldest_pending_ms && (!oldest || c.oldest_pending_ms < oldest)) oldest = c.oldest_pending_ms;
        }
        if (oldest && now_ms > oldest) l.seconds = static_cast<double>(now_ms - oldest) / 1000.0;
        out.push_back(std::move(l));
    }
    return out;
}

void webhook_board::forget(std::string const& id, bool keep_attempts) {
    std::lock_guard lock(mutex_);
    progress_.erase(id);
    if (!keep_attempts) logs_.erase(id);
}

}  // namespace kp::server
