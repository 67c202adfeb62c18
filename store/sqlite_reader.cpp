#include "store/sqlite_reader.hpp"

#include "store/sqlite_connection.hpp"
#include "store/sqlite_statement.hpp"
#include "store/store_error.hpp"

#include <cstdint>

namespace kp::store {

sqlite_reader::sqlite_reader(std::unique_ptr<sqlite_connection> connection) : connection_(std::move(connection)) {
    sqlite3* db = connection_->get();
    read_events_ = std::make_unique<sqlite_statement>(
        db,
        "SELECT offset, timestamp, stored_at, body FROM events WHERE channel = ?1 AND offset > ?2 "
        "ORDER BY offset LIMIT ?3");
    read_position_ = std::make_unique<sqlite_statement>(db, "SELECT last, trimmed_through FROM channels WHERE name = ?1");
    first_after_timestamp_ = std::make_unique<sqlite_statement>(
        db, "SELECT offset FROM events WHERE channel = ?1 AND timestamp > ?2 ORDER BY offset LIMIT 1");
    any_at_or_before_ =
        std::make_unique<sqlite_statement>(db, "SELECT 1 FROM events WHERE channel = ?1 AND timestamp <= ?2 LIMIT 1");
    channels_between_ = std::make_unique<sqlite_statement>(
        db, "SELECT name FROM channels WHERE name >= ?1 AND name < ?2 AND last > 0 ORDER BY name");
}

sqlite_reader::~sqlite_reader() {
    // Statements before their connection.
    read_events_.reset();
    read_position_.reset();
    first_after_timestamp_.reset();
    any_at_or_before_.reset();
    channels_between_.reset();
    connection_.reset();
}

stored_position sqlite_reader::position(std::string const& channel) {
    std::lock_guard read_lock(mutex_);
    stored_position p;
    read_position_->bind(1, channel);
    if (read_position_->step())
        p = {static_cast<std::uint64_t>(read_position_->column_int(0)),
             static_cast<std::uint64_t>(read_position_->column_int(1))};
    read_position_->reset();
    return p;
}

std::vector<event_record> sqlite_reader::read(std::string const& channel, std::uint64_t after, std::size_t limit) {
    std::vector<event_record> out;
    // Offsets are stored as signed 64-bit integers: nothing lies beyond that.
    if (after >= static_cast<std::uint64_t>(INT64_MAX)) return out;
    std::lock_guard read_lock(mutex_);
    read_events_->bind(1, channel).bind(2, static_cast<std::int64_t>(after)).bind(3, static_cast<std::int64_t>(limit));
    try {
        while (read_events_->step())
            out.push_back({channel, static_cast<std::uint64_t>(read_events_->column_int(0)), read_events_->column_int(1),
                           read_events_->column_int(2), read_events_->column_text(3)});
    } catch (store_error const&) {
        read_events_->reset();
        throw;
    }
    read_events_->reset();
    return out;
}

timestamp_position sqlite_reader::position_after(std::string const& channel, std::int64_t timestamp,
                                                 channel_span const& span) {
    timestamp_position position{span.last, !span.trimmed};
    std::lock_guard read_lock(mutex_);
    first_after_timestamp_->bind(1, channel).bind(2, timestamp);
    if (first_after_timestamp_->step())
        position.after = static_cast<std::uint64_t>(first_after_timestamp_->column_int(0)) - 1;
    first_after_timestamp_->reset();
    any_at_or_before_->bind(1, channel).bind(2, timestamp);
    if (any_at_or_before_->step()) position.covered = true;
    any_at_or_before_->reset();
    return position;
}

std::vector<std::string> sqlite_reader::channels_with_prefix(std::string const& prefix) {
    std::vector<std::string> out;
    std::lock_guard read_lock(mutex_);
    // Channel names are ASCII: every name starting with `prefix` sorts below prefix + DEL.
    channels_between_->bind(1, prefix).bind(2, prefix + "\x7f");
    while (channels_between_->step()) out.push_back(channels_between_->column_text(0));
    channels_between_->reset();
    return out;
}

}  // namespace kp::store
