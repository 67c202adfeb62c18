#pragma once
// The history kept in process memory only: fast, bounded by retention, lost on restart (a new
// epoch each start).

#include "store/history_store.hpp"

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace kp::store {

class memory_store final : public history_store {
public:
    using clock_fn = std::function<std::int64_t()>;

    // `dedupe_capacity` bounds how many event identities are remembered for idempotency (they
    // also expire with the history's age limit). `now_ms` is the wall clock, replaceable in tests.
    explicit memory_store(retention limits, std::size_t dedupe_capacity = 100'000,
                          clock_fn now_ms = {});

    std::string kind() const override { return "memory"; }
    std::string epoch() const override { return epoch_; }
    std::vector<std::vector<appended_event>> append_group(
        std::span<std::vector<append_event> const> transactions) override;
    bool read_in_memory(std::string const&, std::uint64_t) override { return true; }
    std::vector<event_record> read(std::string const& channel, std::uint64_t after,
                                   std::size_t limit) override;
    channel_span span(std::string const& channel) override;
    timestamp_position position_after(std::string const& channel, std::int64_t timestamp) override;
    std::optional<timestamp_position> position_in_memory(std::string const& channel, std::int64_t timestamp) override {
        return position_after(channel, timestamp);
    }
    std::vector<std::string> channels_with_prefix(std::string const& prefix) override;
    void trim(std::int64_t now_ms) override;
    bool healthy() override { return true; }
    bool appends_in_memory() const override { return true; }

private:
    struct channel_history {
        std::deque<event_record> events;
        std::uint64_t last = 0;
        bool trimmed = false;
    };
    struct dedupe_entry {
        std::string key;
        std::int64_t stored_at_ms;
    };

    std::vector<appended_event> append_locked(std::vector<append_event> const& transaction, std::int64_t now);
    void trim_channel(channel_history& history, std::int64_t now_ms);
    void trim_dedupe(std::int64_t now_ms);

    retention limits_;
    std::size_t dedupe_capacity_;
    clock_fn now_ms_;
    std::string epoch_;

    std::mutex mutex_;
    std::unordered_map<std::string, channel_history> channels_;
    std::unordered_map<std::string, std::vector<channel_offset>> dedupe_;
    std::deque<dedupe_entry> dedupe_order_;
};

}  // namespace kp::store
