#pragma once
// The store's one writing connection: group commits of published transactions (one SQLite
// transaction, so one fsync, per group), idempotency keys, retention by count and by age, and
// the health of the disk as the last write found it. Thread-safe (one writer at a time).

#include "store/history_types.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace kp::store {

class sqlite_connection;
class sqlite_statement;
class sqlite_tail_cache;

class sqlite_writer {
public:
    using clock_fn = std::function<std::int64_t()>;

    // `newest_stored_at`: the file's newest stored_at, from which stored_at carries on.
    // Committed positions and events are handed to `tails`. Throws store_error when a
    // statement cannot be prepared.
    sqlite_writer(std::unique_ptr<sqlite_connection> connection, retention limits, std::int64_t newest_stored_at,
                  clock_fn now_ms, sqlite_tail_cache& tails);
    ~sqlite_writer();

    // history_store::append_group: committed before it returns; throws store_error (nothing of
    // the group stored) when the write fails.
    std::vector<std::vector<appended_event>> append_group(std::span<std::vector<append_event> const> transactions);
    // Retention by age (events and dedupe keys older than max_age_ms at `now_ms`). A failed
    // write marks the store unhealthy and is done by the next trim.
    void trim(std::int64_t now_ms);
    // True unless the last write failed; then probes with a real write (false while another
    // write is in progress).
    bool healthy();

private:
    retention limits_;
    clock_fn now_ms_;
    sqlite_tail_cache& tails_;

    // Lock order: mutex_, then the tail cache's.
    std::mutex mutex_;   // the connection and its statements
    std::int64_t last_stored_at_;   // stored_at never goes backwards, even if the clock does
    std::unique_ptr<sqlite_connection> connection_;
    std::unique_ptr<sqlite_statement> insert_event_;
    std::unique_ptr<sqlite_statement> upsert_channel_;
    std::unique_ptr<sqlite_statement> drop_through_;
    std::unique_ptr<sqlite_statement> find_dedupe_;
    std::unique_ptr<sqlite_statement> insert_dedupe_;
    std::unique_ptr<sqlite_statement> position_;
    std::unique_ptr<sqlite_statement> set_trimmed_;

    std::atomic<bool> healthy_{true};
};

}  // namespace kp::store
