#include "store/sqlite_store.hpp"

#include "store/random_hex.hpp"
#include "store/sqlite_connection.hpp"
#include "store/sqlite_statement.hpp"
#include "store/store_error.hpp"
#include "store/timestamp_position_in.hpp"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace kp::store {

namespace {

constexpr int schema_version = 1;

std::int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

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

sqlite_store::sqlite_store(std::string path, retention limits, durability mode, std::size_t cache_size,
                           clock_fn now_ms, char const* vfs)
    : path_(std::move(path)),
      limits_(limits),
      cache_size_(cache_size),
      now_ms_(now_ms ? std::move(now_ms) : clock_fn(system_now_ms)) {
    namespace fs = std::filesystem;
    auto parent = fs::path(path_).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        if (ec) throw store_error(parent.string() + ": cannot create the directory: " + ec.message());
    }
    // One process per file: two servers appending to one history would both number events.
    std::string const lock_path = path_ + ".lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) throw store_error(lock_path + ": " + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd_);
        throw store_error(path_ + ": in use by another kinto-push process (lock file " + lock_path + ")");
    }
    try {
        writer_ = std::make_unique<sqlite_connection>(path_, false, vfs);
        writer_->exec("PRAGMA journal_mode=WAL");
        writer_->exec(mode == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        open_schema();
        reader_ = std::make_unique<sqlite_connection>(path_, true, vfs);
    } catch (store_error const& e) {
        std::string message = e.what();
        if (!message.starts_with(path_)) message = path_ + ": " + message;
        ::close(lock_fd_);
        throw store_error(message);
    }

    insert_event_ = std::make_unique<sqlite_statement>(
        writer_->get(), "INSERT INTO events(channel, offset, timestamp, stored_at, body) VALUES (?1, ?2, ?3, ?4, ?5)");
    upsert_channel_ = std::make_unique<sqlite_statement>(
        writer_->get(),
        "INSERT INTO channels(name, last, trimmed_through) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(name) DO UPDATE SET last = excluded.last, trimmed_through = excluded.trimmed_through");
    drop_through_ = std::make_unique<sqlite_statement>(
        writer_->get(), "DELETE FROM events WHERE channel = ?1 AND offset <= ?2");
    find_dedupe_ = std::make_unique<sqlite_statement>(writer_->get(), "SELECT offsets FROM dedupe WHERE key = ?1");
    insert_dedupe_ = std::make_unique<sqlite_statement>(
        writer_->get(), "INSERT INTO dedupe(key, offsets, stored_at) VALUES (?1, ?2, ?3)");
    writer_position_ = std::make_unique<sqlite_statement>(
        writer_->get(), "SELECT last, trimmed_through FROM channels WHERE name = ?1");
    set_trimmed_ = std::make_unique<sqlite_statement>(
        writer_->get(), "UPDATE channels SET trimmed_through = ?2 WHERE name = ?1 AND trimmed_through < ?2");

    read_events_ = std::make_unique<sqlite_statement>(
        reader_->get(),
        "SELECT offset, timestamp, stored_at, body FROM events WHERE channel = ?1 AND offset > ?2 "
        "ORDER BY offset LIMIT ?3");
    read_position_ = std::make_unique<sqlite_statement>(
        reader_->get(), "SELECT last, trimmed_through FROM channels WHERE name = ?1");
    first_after_timestamp_ = std::make_unique<sqlite_statement>(
        reader_->get(),
        "SELECT offset FROM events WHERE channel = ?1 AND timestamp > ?2 ORDER BY offset LIMIT 1");
    any_at_or_before_ = std::make_unique<sqlite_statement>(
        reader_->get(), "SELECT 1 FROM events WHERE channel = ?1 AND timestamp <= ?2 LIMIT 1");
    channels_between_ = std::make_unique<sqlite_statement>(
        reader_->get(), "SELECT name FROM channels WHERE name >= ?1 AND name < ?2 AND last > 0 ORDER BY name");
}

sqlite_store::~sqlite_store() {
    // Statements before their connections, connections before the lock.
    insert_event_.reset();
    upsert_channel_.reset();
    drop_through_.reset();
    find_dedupe_.reset();
    insert_dedupe_.reset();
    writer_position_.reset();
    set_trimmed_.reset();
    read_events_.reset();
    read_position_.reset();
    first_after_timestamp_.reset();
    any_at_or_before_.reset();
    channels_between_.reset();
    reader_.reset();
    writer_.reset();
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

void sqlite_store::open_schema() {
    // Reading the schema also proves the file is a database.
    writer_->exec("BEGIN IMMEDIATE");
    try {
        writer_->exec(
            "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS channels(name TEXT PRIMARY KEY, last INTEGER NOT NULL,"
            "  trimmed_through INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS events(channel TEXT NOT NULL, offset INTEGER NOT NULL,"
            "  timestamp INTEGER NOT NULL, stored_at INTEGER NOT NULL, body TEXT NOT NULL,"
            "  PRIMARY KEY(channel, offset)) WITHOUT ROWID;"
            "CREATE INDEX IF NOT EXISTS events_by_age ON events(stored_at);"
            "CREATE TABLE IF NOT EXISTS dedupe(key TEXT PRIMARY KEY, offsets TEXT NOT NULL,"
            "  stored_at INTEGER NOT NULL) WITHOUT ROWID;"
            "CREATE INDEX IF NOT EXISTS dedupe_by_age ON dedupe(stored_at);");
        sqlite_statement get(writer_->get(), "SELECT value FROM meta WHERE key = ?1");
        get.bind(1, std::string_view("schema"));
        if (get.step()) {
            auto version = get.column_text(0);
            if (version != std::to_string(schema_version))
                throw store_error("schema version " + version + ", this build reads " + std::to_string(schema_version));
        } else {
            sqlite_statement put(writer_->get(), "INSERT INTO meta(key, value) VALUES (?1, ?2)");
            put.bind(1, std::string_view("schema")).bind(2, std::to_string(schema_version)).run();
        }
        get.reset();
        // The epoch is born with the history and dies with it.
        get.bind(1, std::string_view("epoch"));
        if (get.step()) {
            epoch_ = get.column_text(0);
        } else {
            epoch_ = random_hex(4);
            sqlite_statement put(writer_->get(), "INSERT INTO meta(key, value) VALUES (?1, ?2)");
            put.bind(1, std::string_view("epoch")).bind(2, epoch_).run();
        }
        get.reset();
        writer_->exec("COMMIT");
    } catch (store_error const&) {
        sqlite3_exec(writer_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    sqlite_statement check(writer_->get(), "PRAGMA quick_check");
    if (!check.step() || check.column_text(0) != "ok") throw store_error("database is corrupt (PRAGMA quick_check)");
    check.reset();
    // stored_at carries on from the file's newest event, so age order stays offset order even
    // when the clock went back across a restart.
    sqlite_statement newest(writer_->get(),
                            "SELECT MAX(m) FROM (SELECT MAX(stored_at) AS m FROM events UNION ALL "
                            "SELECT MAX(stored_at) FROM dedupe)");
    if (newest.step()) last_stored_at_ = newest.column_int(0);
    newest.reset();
    // A smaller --history-size than the last run's applies at once.
    auto const keep = static_cast<std::int64_t>(limits_.max_events);
    writer_->exec("BEGIN IMMEDIATE");
    try {
        sqlite_statement drop(writer_->get(),
                              "DELETE FROM events WHERE offset <= (SELECT last - ?1 FROM channels WHERE name = channel)");
        drop.bind(1, keep).run();
        sqlite_statement mark(writer_->get(),
                              "UPDATE channels SET trimmed_through = last - ?1 WHERE last - trimmed_through > ?1");
        mark.bind(1, keep).run();
        writer_->exec("COMMIT");
    } catch (store_error const&) {
        sqlite3_exec(writer_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

std::vector<std::vector<appended_event>> sqlite_store::append_group(
    std::span<std::vector<append_event> const> transactions) {
    std::lock_guard write_lock(write_mutex_);
    std::int64_t const now = last_stored_at_ = std::max(last_stored_at_, now_ms_());

    std::unordered_map<std::string, stored_position> positions;   // channels this group touches
    std::unordered_map<std::string, std::vector<channel_offset>> new_keys;
    std::vector<event_record> records;
    std::vector<std::vector<appended_event>> results;

    auto position_of = [&](std::string const& channel) -> stored_position& {
        auto it = positions.find(channel);
        if (it != positions.end()) return it->second;
        stored_position p;
        {
            std::lock_guard state_lock(state_mutex_);
            if (auto known = states_.find(channel); known != states_.end())
                p = {known->second.last, known->second.trimmed_through};
            else
                p.last = UINT64_MAX;   // not loaded yet
        }
        if (p.last == UINT64_MAX) {
            p = {};
            writer_position_->bind(1, channel);
            if (writer_position_->step())
                p = {static_cast<std::uint64_t>(writer_position_->column_int(0)),
                     static_cast<std::uint64_t>(writer_position_->column_int(1))};
            writer_position_->reset();
        }
        return positions.emplace(channel, p).first->second;
    };

    try {
        writer_->exec("BEGIN IMMEDIATE");
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
        writer_->exec("COMMIT");
    } catch (store_error const&) {
        sqlite3_exec(writer_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        healthy_ = false;
        throw;
    }
    healthy_ = true;

    // Committed: now, and only now, the new events become visible to readers of the cache.
    std::lock_guard state_lock(state_mutex_);
    for (auto const& [channel, position] : positions) {
        auto& state = states_[channel];
        state.last = position.last;
        state.trimmed_through = std::max(state.trimmed_through, position.trimmed_through);
    }
    for (auto& record : records) {
        auto& state = states_[record.channel];
        state.cache.push_back(std::move(record));
    }
    for (auto const& [channel, position] : positions) trim_cache(states_[channel], now);
    return results;
}

void sqlite_store::trim_cache(channel_state& state, std::int64_t now_ms) {
    auto& cache = state.cache;
    while (!cache.empty() && (cache.size() > cache_size_ || cache.front().offset <= state.trimmed_through ||
                              now_ms - cache.front().stored_at_ms > limits_.max_age_ms))
        cache.pop_front();
}

sqlite_store::stored_position sqlite_store::load_position(std::string const& channel) {
    std::lock_guard read_lock(read_mutex_);
    stored_position p;
    read_position_->bind(1, channel);
    if (read_position_->step())
        p = {static_cast<std::uint64_t>(read_position_->column_int(0)),
             static_cast<std::uint64_t>(read_position_->column_int(1))};
    read_position_->reset();
    return p;
}

bool sqlite_store::read_in_memory(std::string const& channel, std::uint64_t after) {
    {
        std::lock_guard state_lock(state_mutex_);
        if (auto it = states_.find(channel); it != states_.end()) {
            auto const& state = it->second;
            return after >= state.last || (!state.cache.empty() && after + 1 >= state.cache.front().offset);
        }
    }
    return after >= load_position(channel).last;
}

std::vector<event_record> sqlite_store::read(std::string const& channel, std::uint64_t after, std::size_t limit) {
    std::vector<event_record> out;
    {
        std::lock_guard state_lock(state_mutex_);
        if (auto it = states_.find(channel); it != states_.end()) {
            auto const& state = it->second;
            if (after >= state.last) return out;
            auto const& cache = state.cache;
            if (!cache.empty() && after + 1 >= cache.front().offset) {
                for (auto i = static_cast<std::size_t>(after + 1 - cache.front().offset);
                     i < cache.size() && out.size() < limit; ++i)
                    out.push_back(cache[i]);
                return out;
            }
        }
    }
    // Offsets are stored as signed 64-bit integers: nothing lies beyond that.
    if (after >= static_cast<std::uint64_t>(INT64_MAX)) return out;
    std::lock_guard read_lock(read_mutex_);
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

channel_span sqlite_store::span(std::string const& channel) {
    stored_position p;
    bool known = false;
    {
        std::lock_guard state_lock(state_mutex_);
        if (auto it = states_.find(channel); it != states_.end()) {
            p = {it->second.last, it->second.trimmed_through};
            known = true;
        }
    }
    if (!known) p = load_position(channel);
    return {p.last > p.trimmed_through ? p.trimmed_through + 1 : 0, p.last, p.trimmed_through > 0};
}

std::optional<timestamp_position> sqlite_store::position_in_memory(std::string const& channel,
                                                                  std::int64_t timestamp) {
    std::lock_guard state_lock(state_mutex_);
    auto it = states_.find(channel);
    if (it == states_.end()) return std::nullopt;
    return timestamp_position_in_tail(it->second, timestamp);
}

timestamp_position sqlite_store::position_after(std::string const& channel, std::int64_t timestamp) {
    if (auto position = position_in_memory(channel, timestamp)) return *position;
    auto const s = span(channel);
    timestamp_position position{s.last, !s.trimmed};
    std::lock_guard read_lock(read_mutex_);
    first_after_timestamp_->bind(1, channel).bind(2, timestamp);
    if (first_after_timestamp_->step())
        position.after = static_cast<std::uint64_t>(first_after_timestamp_->column_int(0)) - 1;
    first_after_timestamp_->reset();
    any_at_or_before_->bind(1, channel).bind(2, timestamp);
    if (any_at_or_before_->step()) position.covered = true;
    any_at_or_before_->reset();
    return position;
}

std::vector<std::string> sqlite_store::channels_with_prefix(std::string const& prefix) {
    std::vector<std::string> out;
    std::lock_guard read_lock(read_mutex_);
    // Channel names are ASCII: every name starting with `prefix` sorts below prefix + DEL.
    channels_between_->bind(1, prefix).bind(2, prefix + "\x7f");
    while (channels_between_->step()) out.push_back(channels_between_->column_text(0));
    channels_between_->reset();
    return out;
}

void sqlite_store::trim(std::int64_t now_ms) {
    std::lock_guard write_lock(write_mutex_);
    std::int64_t const cutoff = now_ms - limits_.max_age_ms;
    std::unordered_map<std::string, std::uint64_t> trimmed;   // channel -> new trimmed_through
    try {
        writer_->exec("BEGIN IMMEDIATE");
        {
            sqlite_statement aged(writer_->get(),
                                  "SELECT channel, MAX(offset) FROM events WHERE stored_at < ?1 GROUP BY channel");
            aged.bind(1, cutoff);
            while (aged.step()) trimmed[aged.column_text(0)] = static_cast<std::uint64_t>(aged.column_int(1));
            aged.reset();
            sqlite_statement drop_aged(writer_->get(), "DELETE FROM events WHERE stored_at < ?1");
            drop_aged.bind(1, cutoff).run();
        }
        for (auto const& [channel, through] : trimmed)
            set_trimmed_->bind(1, channel).bind(2, static_cast<std::int64_t>(through)).run();
        sqlite_statement drop_keys(writer_->get(), "DELETE FROM dedupe WHERE stored_at < ?1");
        drop_keys.bind(1, cutoff).run();
        writer_->exec("COMMIT");
    } catch (store_error const&) {
        sqlite3_exec(writer_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        healthy_ = false;
        return;   // retried at the next trim
    }
    std::lock_guard state_lock(state_mutex_);
    for (auto const& [channel, through] : trimmed) {
        if (auto it = states_.find(channel); it != states_.end())
            it->second.trimmed_through = std::max(it->second.trimmed_through, through);
    }
    for (auto& [channel, state] : states_) trim_cache(state, now_ms);
}

bool sqlite_store::healthy() {
    if (healthy_) return true;
    // After a failure, probe with a real write: answering again means committing again.
    std::unique_lock write_lock(write_mutex_, std::try_to_lock);
    if (!write_lock.owns_lock()) return false;
    try {
        writer_->exec("BEGIN IMMEDIATE");
        sqlite_statement probe(writer_->get(), "INSERT OR REPLACE INTO meta(key, value) VALUES ('probe', ?1)");
        probe.bind(1, std::to_string(now_ms_())).run();
        writer_->exec("COMMIT");
        healthy_ = true;
    } catch (store_error const&) {
        sqlite3_exec(writer_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return healthy_;
}

}  // namespace kp::store
