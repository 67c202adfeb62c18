#include "store/sqlite_schema.hpp"

#include "store/random_hex.hpp"
#include "store/sqlite_connection.hpp"
#include "store/sqlite_statement.hpp"
#include "store/store_error.hpp"

namespace kp::store {

namespace {

constexpr int schema_version = 1;

}  // namespace

sqlite_schema sqlite_schema::open(sqlite_connection& writer, retention limits) {
    sqlite_schema schema;
    // Reading the schema also proves the file is a database.
    writer.exec("BEGIN IMMEDIATE");
    try {
        writer.exec(
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
        sqlite_statement get(writer.get(), "SELECT value FROM meta WHERE key = ?1");
        get.bind(1, std::string_view("schema"));
        if (get.step()) {
            auto version = get.column_text(0);
            if (version != std::to_string(schema_version))
                throw store_error("schema version " + version + ", this build reads " + std::to_string(schema_version));
        } else {
            sqlite_statement put(writer.get(), "INSERT INTO meta(key, value) VALUES (?1, ?2)");
            put.bind(1, std::string_view("schema")).bind(2, std::to_string(schema_version)).run();
        }
        get.reset();
        // The epoch is born with the history and dies with it.
        get.bind(1, std::string_view("epoch"));
        if (get.step()) {
            schema.epoch_ = get.column_text(0);
        } else {
            schema.epoch_ = random_hex(4);
            sqlite_statement put(writer.get(), "INSERT INTO meta(key, value) VALUES (?1, ?2)");
            put.bind(1, std::string_view("epoch")).bind(2, schema.epoch_).run();
        }
        get.reset();
        writer.exec("COMMIT");
    } catch (store_error const&) {
        sqlite3_exec(writer.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    sqlite_statement check(writer.get(), "PRAGMA quick_check");
    if (!check.step() || check.column_text(0) != "ok") throw store_error("database is corrupt (PRAGMA quick_check)");
    check.reset();
    // stored_at carries on from the file's newest event, so age order stays offset order even
    // when the clock went back across a restart.
    sqlite_statement newest(writer.get(),
                            "SELECT MAX(m) FROM (SELECT MAX(stored_at) AS m FROM events UNION ALL "
                            "SELECT MAX(stored_at) FROM dedupe)");
    if (newest.step()) schema.newest_stored_at_ = newest.column_int(0);
    newest.reset();
    // A smaller --history-size than the last run's applies at once.
    auto const keep = static_cast<std::int64_t>(limits.max_events);
    writer.exec("BEGIN IMMEDIATE");
    try {
        sqlite_statement drop(writer.get(),
                              "DELETE FROM events WHERE offset <= (SELECT last - ?1 FROM channels WHERE name = channel)");
        drop.bind(1, keep).run();
        sqlite_statement mark(writer.get(),
                              "UPDATE channels SET trimmed_through = last - ?1 WHERE last - trimmed_through > ?1");
        mark.bind(1, keep).run();
        writer.exec("COMMIT");
    } catch (store_error const&) {
        sqlite3_exec(writer.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    return schema;
}

}  // namespace kp::store
