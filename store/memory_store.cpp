#include "store/memory_store.hpp"

#include "store/random_hex.hpp"
#include "store/timestamp_position_in.hpp"

#include <algorithm>
#include <chrono>

namespace kp::store {

namespace {

std::int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

memory_store::memory_store(retention limits, std::size_t dedupe_capacity, clock_fn now_ms)
    : limits_(limits),
      dedupe_capacity_(dedupe_capacity),
      now_ms_(now_ms ? std::move(now_ms) : clock_fn(system_now_ms)),
      epoch_(random_hex(4)) {}

std::vector<std::vector<appended_event>> memory_store::append_group(
    std::span<std::vector<append_event> const> transactions) {
    std::int64_t const now = now_ms_();
    std::vector<std::vector<appended_event>> results;
    std::lock_guard lock(mutex_);
    for (auto const& transaction : transactions) results.push_back(append_locked(transaction, now));
    trim_dedupe(now);
    return results;
}

std::vector<appended_event> memory_store::append_locked(std::vector<append_event> const& transaction,
                                                        std::int64_t now) {
    std::vector<appended_event> result;
    result.reserve(transaction.size());
    for (auto const& event : transaction) {
        if (!event.dedupe_key.empty()) {
            if (auto known = dedupe_.find(event.dedupe_key); known != dedupe_.end()) {
                result.push_back({known->second, true});
                continue;
            }
        }
        appended_event appended;
        for (auto const& entry : event.entries) {
            auto& history = channels_[entry.channel];
            event_record record{entry.channel, ++history.last, entry.timestamp, now, entry.body};
            history.events.push_back(std::move(record));
            appended.offsets.push_back({entry.channel, history.last});
            trim_channel(history, now);
        }
        if (!event.dedupe_key.empty()) {
            dedupe_.emplace(event.dedupe_key, appended.offsets);
            dedupe_order_.push_back({event.dedupe_key, now});
        }
        result.push_back(std::move(appended));
    }
    return result;
}

std::vector<event_record> memory_store::read(std::string const& channel, std::uint64_t after,
                                             std::size_t limit) {
    std::lock_guard lock(mutex_);
    std::vector<event_record> out;
    auto it = channels_.find(channel);
    if (it == channels_.end() || it->second.events.empty()) return out;
    auto const& events = it->second.events;
    std::uint64_t const first = events.front().offset;
    // Offsets are contiguous in the deque, so the start is found by arithmetic.
    std::size_t start = after < first ? 0 : static_cast<std::size_t>(after - first + 1);
    for (std::size_t i = start; i < events.size() && out.size() < limit; ++i) out.push_back(events[i]);
    return out;
}

channel_span memory_store::span(std::string const& channel) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return {};
    auto const& history = it->second;
    return {history.events.empty() ? 0 : history.events.front().offset, history.last, history.trimmed};
}

timestamp_position memory_store::position_after(std::string const& channel, std::int64_t timestamp) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return {0, true};
    auto const& history = it->second;
    return timestamp_position_in(history.events, history.last, history.trimmed, timestamp);
}

std::vector<std::string> memory_store::channels_with_prefix(std::string const& prefix) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (auto const& [name, history] : channels_)
        if (name.starts_with(prefix) && history.last > 0) out.push_back(name);
    std::sort(out.begin(), out.end());
    return out;
}

void memory_store::trim(std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    for (auto& [name, history] : channels_) trim_channel(history, now_ms);
    trim_dedupe(now_ms);
}

void memory_store::trim_channel(channel_history& history, std::int64_t now_ms) {
    auto& events = history.events;
    while (!events.empty() && (events.size() > limits_.max_events ||
                               now_ms - events.front().stored_at_ms > limits_.max_age_ms)) {
        events.pop_front();
        history.trimmed = true;
    }
}

void memory_store::trim_dedupe(std::int64_t now_ms) {
    while (!dedupe_order_.empty() && (dedupe_order_.size() > dedupe_capacity_ ||
                                      now_ms - dedupe_order_.front().stored_at_ms > limits_.max_age_ms)) {
        dedupe_.erase(dedupe_order_.front().key);
        dedupe_order_.pop_front();
    }
}

}  // namespace kp::store
