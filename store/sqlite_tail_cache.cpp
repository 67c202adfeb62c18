#include "store/sqlite_tail_cache.hpp"

#include "store/timestamp_position_in.hpp"

#include <algorithm>

namespace kp::store {

sqlite_tail_cache::sqlite_tail_cache(std::size_t cache_size, std::int64_t max_age_ms)
    : cache_size_(cache_size), max_age_ms_(max_age_ms) {}

std::optional<stored_position> sqlite_tail_cache::position(std::string const& channel) const {
    std::lock_guard lock(mutex_);
    auto it = states_.find(channel);
    if (it == states_.end()) return std::nullopt;
    return stored_position{it->second.last, it->second.trimmed_through};
}

std::optional<bool> sqlite_tail_cache::covers(std::string const& channel, std::uint64_t after) const {
    std::lock_guard lock(mutex_);
    auto it = states_.find(channel);
    if (it == states_.end()) return std::nullopt;
    auto const& state = it->second;
    return after >= state.last || (!state.cache.empty() && after + 1 >= state.cache.front().offset);
}

std::optional<std::vector<event_record>> sqlite_tail_cache::read(std::string const& channel, std::uint64_t after,
                                                                 std::size_t limit) const {
    std::lock_guard lock(mutex_);
    auto it = states_.find(channel);
    if (it == states_.end()) return std::nullopt;
    auto const& state = it->second;
    std::vector<event_record> out;
    if (after >= state.last) return out;
    auto const& cache = state.cache;
    if (cache.empty() || after + 1 < cache.front().offset) return std::nullopt;
    for (auto i = static_cast<std::size_t>(after + 1 - cache.front().offset); i < cache.size() && out.size() < limit;
         ++i)
        out.push_back(cache[i]);
    return out;
}

std::optional<timestamp_position> sqlite_tail_cache::position_after(std::string const& channel,
                                                                    std::int64_t timestamp) const {
    std::lock_guard lock(mutex_);
    auto it = states_.find(channel);
    if (it == states_.end()) return std::nullopt;
    return timestamp_position_in_tail(it->second, timestamp);
}

void sqlite_tail_cache::committed(std::unordered_map<std::string, stored_position> const& positions,
                                  std::vector<event_record> records, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    for (auto const& [channel, position] : positions) {
        auto& state = states_[channel];
        state.last = position.last;
        state.trimmed_through = std::max(state.trimmed_through, position.trimmed_through);
    }
    for (auto& record : records) {
        auto& state = states_[record.channel];
        state.cache.push_back(std::move(record));
    }
    for (auto const& [channel, position] : positions) trim(states_[channel], now_ms);
}

void sqlite_tail_cache::trimmed(std::unordered_map<std::string, std::uint64_t> const& through, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    for (auto const& [channel, offset] : through) {
        if (auto it = states_.find(channel); it != states_.end())
            it->second.trimmed_through = std::max(it->second.trimmed_through, offset);
    }
    for (auto& [channel, state] : states_) trim(state, now_ms);
}

void sqlite_tail_cache::trim(channel_state& state, std::int64_t now_ms) const {
    auto& cache = state.cache;
    while (!cache.empty() && (cache.size() > cache_size_ || cache.front().offset <= state.trimmed_through ||
                              now_ms - cache.front().stored_at_ms > max_age_ms_))
        cache.pop_front();
}

}  // namespace kp::store
