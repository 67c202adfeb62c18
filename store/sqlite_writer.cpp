#include "store/sqlite_writer.hpp"

#include "store/sqlite_connection.hpp"
#include "store/sqlite_statement.hpp"
#include "store/sqlite_tail_cache.hpp"
#include "store/store_error.hpp"

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <unordered_map>

namespace kp::store {

namespace {

// A duplicate's first offsets, kept as "offset channel" lines (channel names have no newline).
std::string encode_offsets(std::vector<channel_offset> const& offsets) {
    std::string out;
    for (auto const& o : offsets) out += std::to_string(o.offset) + " " + o.channel + "\n";
    return out;
}

std::vector<channel_offset> decode_offsets(std::string const& text) {
    std::vector<channel_offset> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        auto space = line.find(' ');
        if (space == std::string::npos) continue;
        out.push_back({line.substr(space + 1), std::stoull(line.substr(0, space))});
    }
    return out;
}

}  // namespace

sqlite_writer::sqlite_writer(std::unique_ptr<sqlite_connection> connection, retention limits,
                             std::int64_t newest_stored_at, clock_fn now_ms, sqlite_tail_cache& tails)
    : limits_(limits),
      now_ms_(std::move(now_ms)),
      tails_(tails),
      last_stored_at_(newest_stored_at),
      connection_(std::move(connection)) {
    sqlite3* db = connection_->get();
    insert_event_ = std::make_unique<sqlite_statement>(
        db, "INSERT INTO events(channel, offset, timestamp, stored_at, body) VALUES (?1, ?2, ?3, ?4, ?5)");
    upsert_channel_ = std::make_unique<sqlite_statement>(
        db,
        "INSERT INTO channels(name, last, trimmed_through) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(name) DO UPDATE SET last = excluded.last, trimmed_through = excluded.trimmed_through");
    drop_through_ = std::make_unique<sqlite_statement>(db, "DELETE FROM events WHERE channel = ?1 AND offset <= ?2");
    find_dedupe_ = std::make_unique<sqlite_statement>(db, "SELECT offsets FROM dedupe WHERE key = ?1");
    insert_dedupe_ =
        std::make_unique<sqlite_statement>(db, "INSERT INTO dedupe(key, offsets, stored_at) VALUES (?1, ?2, ?3)");
    position_ = std::make_unique<sqlite_statement>(db, "SELECT last, trimmed_through FROM channels WHERE name = ?1");
    set_trimmed_ = std::make_unique<sqlite_statement>(
        db, "UPDATE channels SET trimmed_through = ?2 WHERE name = ?1 AND trimmed_through < ?2");
}

sqlite_writer::~sqlite_writer() {
    // Statements before their connection.
    insert_event_.reset();
    upsert_channel_.reset();
    drop_through_.reset();
    find_dedupe_.reset();
    insert_dedupe_.reset();
    position_.reset();
    set_trimmed_.reset();
    connection_.reset();
}

std::vector<std::vector<appended_event>> sqlite_writer::append_group(
    std::span<std::vector<append_event> const> transactions) {
    std::lock_guard write_lock(mutex_);
    std::int64_t const now = last_stored_at_ = std::max(last_stored_at_, now_ms_());

    std::unordered_map<std::string, stored_position> positions;   // channels this group touches
    std::unordered_map<std::string, std::vector<channel_offset>> new_keys;
    std::vector<event_record> records;
    std::vector<std::vector<appended_event>> results;

    auto position_of = [&](std::string const& channel) -> stored_position& {
        auto it = positions.find(channel);
        if (it != positions.end()) return it->second;
        auto p = tails_.position(channel);
        if (!p) {
            p.emplace();
            position_->bind(1, channel);
            if (position_->step())
                p = stored_position{static_cast<std::uint64_t>(position_->column_int(0)),
                                    static_cast<std::uint64_t>(position_->column_int(1))};
            position_->reset();
        }
        return positions.emplace(channel, *p).first->second;
    };

    try {
        connection_->exec("BEGIN IMMEDIATE");
        for (auto const& transaction : transactions) {
            std::vector<appended_event> result;
            for (auto const& event : transaction) {
                if (!event.dedupe_key.empty()) {
                    if (auto it = new_keys.find(event.dedupe_key); it != new_keys.end()) {
                        result.push_back({it->second, true});
                        continue;
                    }
                    find_dedupe_->bind(1, event.dedupe_key);
                    bool const known = find_dedupe_->step();
                    std::string offsets = known ? find_dedupe_->column_text(0) : std::string();
                    find_dedupe_->reset();
                    if (known) {
                        result.push_back({decode_offsets(offsets), true});
                        continue;
                    }
                }
                appended_event appended;
                for (auto const& entry : event.entries) {
                    auto& position = position_of(entry.channel);
                    std::uint64_t const offset = ++position.last;
                    insert_event_->bind(1, entry.channel)
                        .bind(2, static_cast<std::int64_t>(offset))
                        .bind(3, entry.timestamp)
                        .bind(4, now)
                        .bind(5, entry.body)
                        .run();
                    appended.offsets.push_back({entry.channel, offset});
                    records.push_back({entry.channel, offset, entry.timestamp, now, entry.body});
                }
                if (!event.dedupe_key.empty()) {
                    insert_dedupe_->bind(1, event.dedupe_key).bind(2, encode_offsets(appended.offsets)).bind(3, now).run();
                    new_keys.emplace(event.dedupe_key, appended.offsets);
                }
                result.push_back(std::move(appended));
            }
            results.push_back(std::move(result));
        }
        for (auto& [channel, position] : positions) {
            // Retention by count, in the same transaction: an index range delete per channel.
            if (position.last - position.trimmed_through > limits_.max_events) {
                position.trimmed_through = position.last - limits_.max_events;
                drop_through_->bind(1, channel).bind(2, static_cast<std::int64_t>(position.trimmed_through)).run();
            }
            upsert_channel_->bind(1, channel)
                .bind(2, static_cast<std::int64_t>(position.last))
                .bind(3, static_cast<std::int64_t>(position.trimmed_through))
                .run();
        }
        connection_->exec("COMMIT");
    } catch (store_error const&) {
        sqlite3_exec(connection_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        healthy_ = false;
        throw;
    }
    healthy_ = true;

    // Committed: now, and only now, the new events become visible to readers of the cache.
    tails_.committed(positions, std::move(records), now);
    return results;
}

void sqlite_writer::trim(std::int64_t now_ms) {
    std::lock_guard write_lock(mutex_);
    std::int64_t const cutoff = now_ms - limits_.max_age_ms;
    std::unordered_map<std::string, std::uint64_t> trimmed;   // channel -> new trimmed_through
    try {
        connection_->exec("BEGIN IMMEDIATE");
        {
            sqlite_statement aged(connection_->get(),
                                  "SELECT channel, MAX(offset) FROM events WHERE stored_at < ?1 GROUP BY channel");
            aged.bind(1, cutoff);
            while (aged.step()) trimmed[aged.column_text(0)] = static_cast<std::uint64_t>(aged.column_int(1));
            aged.reset();
            sqlite_statement drop_aged(connection_->get(), "DELETE FROM events WHERE stored_at < ?1");
            drop_aged.bind(1, cutoff).run();
        }
        for (auto const& [channel, through] : trimmed)
            set_trimmed_->bind(1, channel).bind(2, static_cast<std::int64_t>(through)).run();
        sqlite_statement drop_keys(connection_->get(), "DELETE FROM dedupe WHERE stored_at < ?1");
        drop_keys.bind(1, cutoff).run();
        connection_->exec("COMMIT");
    } catch (store_error const&) {
        sqlite3_exec(connection_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        healthy_ = false;
        return;   // retried at the next trim
    }
    tails_.trimmed(trimmed, now_ms);
}

bool sqlite_writer::healthy() {
    if (healthy_) return true;
    // After a failure, probe with a real write: answering again means committing again.
    std::unique_lock write_lock(mutex_, std::try_to_lock);
    if (!write_lock.owns_lock()) return false;
    try {
        connection_->exec("BEGIN IMMEDIATE");
        sqlite_statement probe(connection_->get(), "INSERT OR REPLACE INTO meta(key, value) VALUES ('probe', ?1)");
        probe.bind(1, std::to_string(now_ms_())).run();
        connection_->exec("COMMIT");
        healthy_ = true;
    } catch (store_error const&) {
        sqlite3_exec(connection_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return healthy_;
}

}  // namespace kp::store
