#pragma once
// One open SQLite connection to the history file, configured for kinto-push (WAL, busy
// timeout, the chosen durability).

#include <sqlite3.h>

#include <string>
#include <string_view>

namespace kp::store {

class sqlite_connection {
public:
    // Throws store_error naming `path` when the file cannot be opened.
    sqlite_connection(std::string const& path, bool read_only, char const* vfs = nullptr);
    ~sqlite_connection();
    sqlite_connection(sqlite_connection const&) = delete;
    sqlite_connection& operator=(sqlite_connection const&) = delete;

    sqlite3* get() const { return db_; }
    // Runs SQL that returns no rows; throws store_error with SQLite's message.
    void exec(std::string_view sql);

private:
    sqlite3* db_ = nullptr;
};

}  // namespace kp::store
