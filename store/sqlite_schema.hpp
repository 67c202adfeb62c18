#pragma once
// The history file's tables and meta rows, created or checked when the file is opened, and what
// the store takes from them (the epoch, the newest stored_at).

#include "store/history_types.hpp"

#include <cstdint>
#include <string>

namespace kp::store {

class sqlite_connection;

class sqlite_schema {
public:
    // On the writer connection: creates the tables (or checks the schema version), reads or
    // creates the epoch, runs PRAGMA quick_check, and applies a --history-size smaller than
    // the last run's. Throws store_error (the file is not a database, is corrupt, or has
    // another schema version).
    static sqlite_schema open(sqlite_connection& writer, retention limits);

    std::string const& epoch() const { return epoch_; }
    // The newest stored_at of the file's events and dedupe keys (0 when empty).
    std::int64_t newest_stored_at() const { return newest_stored_at_; }

private:
    sqlite_schema() = default;

    std::string epoch_;
    std::int64_t newest_stored_at_ = 0;
};

}  // namespace kp::store
