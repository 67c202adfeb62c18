#pragma once
// The durable history: a SQLite file in WAL mode (the embedded default). One SQLite
// transaction per group of published transactions, committed before anyone is answered; the
// recent tail of every channel also kept in memory, so that recent resumes never read the disk.

#include "store/history_store.hpp"

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace kp::store {

class sqlite_connection;
class sqlite_statement;

enum class durability { full, normal };

class sqlite_store final : public history_store {
public:
    using clock_fn = std::function<std::int64_t()>;

    // Opens or creates `path` (its directory too). Throws store_error naming the file when it is
    // unreadable, not a database, corrupt, or in use by another process. `vfs` selects a SQLite
    // VFS by name (tests use one that fails writes on demand).
    sqlite_store(std::string path, retention limits, durability mode, std::size_t cache_size,
                 clock_fn now_ms = {}, char const* vfs = nullptr);
    ~sqlite_store() override;

    std::string kind() const override { return "sqlite"; }
    std::string epoch() const override { return epoch_; }
    std::vector<std::vector<appended_event>> append_group(
        std::span<std::vector<append_event> const> transactions) override;
    bool read_in_memory(std::string const& channel, std::uint64_t after) override;
    std::vector<event_record> read(std::string const& channel, std::uint64_t after, std::size_t limit) override;
    channel_span span(std::string const& channel) override;
    timestamp_position position_after(std::string const& channel, std::int64_t timestamp) override;
    std::optional<timestamp_position> position_in_memory(std::string const& channel, std::int64_t timestamp) override;
    std::vector<std::string> channels_with_prefix(std::string const& prefix) override;
    void trim(std::int64_t now_ms) override;
    bool healthy() override;

private:
    // What is known of a channel that was appended to since start. `cache` is always a
    // contiguous run of offsets ending at `last` (possibly empty).
    struct channel_state {
        std::uint64_t last = 0;
        std::uint64_t trimmed_through = 0;   // every offset <= this has left the history
        std::deque<event_record> cache;
    };
    struct stored_position {
        std::uint64_t last = 0;
        std::uint64_t trimmed_through = 0;
    };

    void open_schema();
    stored_position load_position(std::string const& channel);   // reader connection
    void trim_cache(channel_state& state, std::int64_t now_ms);

    std::string path_;
    retention limits_;
    std::size_t cache_size_;
    clock_fn now_ms_;
    int lock_fd_ = -1;
    std::string epoch_;
    std::int64_t last_stored_at_ = 0;   // stored_at never goes backwards, even if the clock does

    std::mutex write_mutex_;   // the writer connection and its statements
    std::unique_ptr<sqlite_connection> writer_;
    std::unique_ptr<sqlite_statement> insert_event_;
    std::unique_ptr<sqlite_statement> upsert_channel_;
    std::unique_ptr<sqlite_statement> drop_through_;
    std::unique_ptr<sqlite_statement> find_dedupe_;
    std::unique_ptr<sqlite_statement> insert_dedupe_;
    std::unique_ptr<sqlite_statement> writer_position_;
    std::unique_ptr<sqlite_statement> set_trimmed_;

    std::mutex read_mutex_;   // the reader connection and its statements
    std::unique_ptr<sqlite_connection> reader_;
    std::unique_ptr<sqlite_statement> read_events_;
    std::unique_ptr<sqlite_statement> read_position_;
    std::unique_ptr<sqlite_statement> first_after_timestamp_;
    std::unique_ptr<sqlite_statement> any_at_or_before_;
    std::unique_ptr<sqlite_statement> channels_between_;

    // Lock order: write_mutex_, then state_mutex_. read_mutex_ is never held with another.
    std::mutex state_mutex_;
    std::unordered_map<std::string, channel_state> states_;

    std::atomic<bool> healthy_{true};
};

}  // namespace kp::store
