#include "store/redis_channel_view.hpp"

#include "store/timestamp_position_in.hpp"

#include <algorithm>

namespace kp::store {

redis_channel_view::redis_channel_view(retention limits, std::size_t cache_size)
    : limits_(limits), cache_size_(cache_size) {}

bool redis_channel_view::set_epoch(std::string const& epoch) {
    bool const changed = !epoch_.empty() && epoch_ != epoch;
    if (changed) {
        channels_.clear();
        history_lost_pending_ = true;
    }
    epoch_ = epoch;
    return changed;
}

redis_channel_view::sync_result redis_channel_view::sync(heads const& lasts, heads const& trims) {
    for (auto const& [name, state] : channels_) {
        auto it = lasts.find(name);
        if (state.last > (it == lasts.end() ? 0 : it->second)) return {true, false};
    }
    bool const fresh = !synced_once_ || history_lost_pending_;
    for (auto const& [name, last] : lasts) {
        auto& state = channels_[name];
        if (auto t = trims.find(name); t != trims.end())
            state.trimmed_through = std::max(state.trimmed_through, t->second);
        if (fresh) {
            // Nobody subscribed yet (start) or everyone resyncs (lost): no replay owed.
            state.last = std::max(state.last, last);
            state.cache.clear();
        } else if (last > state.last) {
            owed_.emplace_back(name, last);
        }
        state.trimmed_through = std::min(state.trimmed_through, std::max(state.last, last));
    }
    sync_result const result{false, history_lost_pending_};
    history_lost_pending_ = false;
    synced_once_ = true;
    return result;
}

void redis_channel_view::reset() {
    reading_ = false;
    arrived_.clear();
    owed_.clear();
}

void redis_channel_view::arrived(std::vector<event_record> transaction) {
    if (!transaction.empty()) arrived_.push_back(std::move(transaction));
}

redis_channel_view::step redis_channel_view::next() {
    bool from_gap = false;
    while (!reading_) {
        if (!owed_.empty()) {
            auto [channel, through] = std::move(owed_.front());
            owed_.pop_front();
            auto it = channels_.find(channel);
            std::uint64_t const last = it == channels_.end() ? 0 : it->second.last;
            if (last >= through) continue;   // announced meanwhile
            reading_ = true;
            step read;
            read.what = step::kind::read;
            read.range = {std::move(channel), last, through, from_gap};
            return read;
        }
        if (arrived_.empty()) break;
        // A transaction is announced only when every offset before it was: a gap is read from
        // the stream first.
        std::optional<std::pair<std::string, std::uint64_t>> gap;
        std::unordered_map<std::string, std::uint64_t> expected;
        for (auto const& record : arrived_.front()) {
            auto [it, added] = expected.try_emplace(record.channel, 0);
            if (added) {
                auto known = channels_.find(record.channel);
                it->second = known == channels_.end() ? 0 : known->second.last;
            }
            if (record.offset > it->second + 1) {
                gap.emplace(record.channel, record.offset - 1);
                break;
            }
            it->second = std::max(it->second, record.offset);
        }
        if (gap) {
            owed_.push_front(std::move(*gap));
            from_gap = true;
            continue;
        }
        auto records = std::move(arrived_.front());
        arrived_.pop_front();
        step announce;
        announce.what = step::kind::announce;
        announce.records = accept(std::move(records));
        return announce;
    }
    return {};
}

std::vector<event_record> redis_channel_view::filled(fetch const& range, std::vector<event_record> entries) {
    reading_ = false;
    std::uint64_t const first = entries.empty() ? range.through + 1 : entries.front().offset;
    if (first > range.after + 1) {
        // Trimmed before this node read it: the range is gone. Sessions that needed it see the
        // jump, replay from the history, and are told to resync.
        auto& state = channels_[range.channel];
        if (state.last == range.after) {
            state.cache.clear();
            state.last = first - 1;
            state.trimmed_through = std::max(state.trimmed_through, first - 1);
        }
    }
    if (entries.empty()) return {};
    std::uint64_t const got = entries.back().offset;
    auto fresh = accept(std::move(entries));
    if (got < range.through) owed_.emplace_front(range.channel, range.through);
    return fresh;
}

std::vector<event_record> redis_channel_view::accept(std::vector<event_record> records) {
    std::vector<event_record> fresh;
    for (auto& record : records) {
        auto& state = channels_[record.channel];
        if (record.offset <= state.last) continue;   // announced already (a read overlapped)
        if (record.offset != state.last + 1) {
            state.cache.clear();
            state.trimmed_through = std::max(state.trimmed_through, record.offset - 1);
        }
        state.last = record.offset;
        if (state.last > limits_.max_events)
            state.trimmed_through = std::max(state.trimmed_through, state.last - limits_.max_events);
        state.cache.push_back(record);
        trim_cache(state, record.stored_at_ms);
        fresh.push_back(std::move(record));
    }
    return fresh;
}

void redis_channel_view::trim_cache(channel_state& state, std::int64_t now_ms) const {
    auto& cache = state.cache;
    while (!cache.empty() && (cache.size() > cache_size_ || cache.front().offset <= state.trimmed_through ||
                              now_ms - cache.front().stored_at_ms > limits_.max_age_ms))
        cache.pop_front();
}

bool redis_channel_view::read_in_memory(std::string const& channel, std::uint64_t after) const {
    auto it = channels_.find(channel);
    if (it == channels_.end()) return true;
    auto const& state = it->second;
    return after >= state.last || (!state.cache.empty() && after + 1 >= state.cache.front().offset);
}

std::optional<std::vector<event_record>> redis_channel_view::read_from_memory(std::string const& channel,
                                                                             std::uint64_t after,
                                                                             std::size_t limit) const {
    std::vector<event_record> out;
    auto it = channels_.find(channel);
    if (it == channels_.end() || after >= it->second.last || limit == 0) return out;
    auto const& cache = it->second.cache;
    if (cache.empty() || after + 1 < cache.front().offset) return std::nullopt;
    for (auto i = static_cast<std::size_t>(after + 1 - cache.front().offset); i < cache.size() && out.size() < limit;
         ++i)
        out.push_back(cache[i]);
    return out;
}

channel_span redis_channel_view::span(std::string const& channel) const {
    auto it = channels_.find(channel);
    if (it == channels_.end()) return {};
    auto const& s = it->second;
    return {s.last > s.trimmed_through ? s.trimmed_through + 1 : 0, s.last, s.trimmed_through > 0};
}

std::optional<timestamp_position> redis_channel_view::position_in_memory(std::string const& channel,
                                                                         std::int64_t timestamp) const {
    auto it = channels_.find(channel);
    if (it == channels_.end()) return timestamp_position{0, true};
    return timestamp_position_in_tail(it->second, timestamp);
}

std::vector<std::string> redis_channel_view::channels_with_prefix(std::string const& prefix) const {
    std::vector<std::string> out;
    for (auto it = channels_.lower_bound(prefix); it != channels_.end() && it->first.starts_with(prefix); ++it)
        if (it->second.last > 0) out.push_back(it->first);
    return out;
}

bool redis_channel_view::reached(heads const& offsets) const {
    for (auto const& [channel, offset] : offsets) {
        auto it = channels_.find(channel);
        if (it == channels_.end() || it->second.last < offset) return false;
    }
    return true;
}

std::vector<std::string> redis_channel_view::channels_to_trim() const {
    std::vector<std::string> names;
    for (auto const& [name, state] : channels_)
        if (state.last > state.trimmed_through) names.push_back(name);
    return names;
}

void redis_channel_view::trimmed(std::string const& channel, std::uint64_t through, std::int64_t now_ms) {
    auto it = channels_.find(channel);
    if (it == channels_.end()) return;
    auto& state = it->second;
    state.trimmed_through = std::min(state.last, std::max(state.trimmed_through, through));
    trim_cache(state, now_ms);
}

}  // namespace kp::store
