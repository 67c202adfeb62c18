#pragma once
// The store's one read-only connection: what the memory tails do not hold (older events,
// channels not appended to since start, timestamps, channel listings). Thread-safe (one
// reader at a time; its lock is never held with another).

#include "store/history_types.hpp"
#include "store/sqlite_tail_cache.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kp::store {

class sqlite_connection;
class sqlite_statement;

class sqlite_reader {
public:
    // Throws store_error when a statement cannot be prepared.
    explicit sqlite_reader(std::unique_ptr<sqlite_connection> connection);
    ~sqlite_reader();

    // The channel's row (zeros when it has none).
    stored_position position(std::string const& channel);
    // Up to `limit` events after `after`, in offset order.
    std::vector<event_record> read(std::string const& channel, std::uint64_t after, std::size_t limit);
    // history_store::position_after from the disk, given the channel's span.
    timestamp_position position_after(std::string const& channel, std::int64_t timestamp, channel_span const& span);
    // Channels that were ever appended to whose name starts with `prefix`, sorted.
    std::vector<std::string> channels_with_prefix(std::string const& prefix);

private:
    std::mutex mutex_;   // the connection and its statements
    std::unique_ptr<sqlite_connection> connection_;
    std::unique_ptr<sqlite_statement> read_events_;
    std::unique_ptr<sqlite_statement> read_position_;
    std::unique_ptr<sqlite_statement> first_after_timestamp_;
    std::unique_ptr<sqlite_statement> any_at_or_before_;
    std::unique_ptr<sqlite_statement> channels_between_;
};

}  // namespace kp::store
