#include "store/sqlite_connection.hpp"

#include "store/store_error.hpp"

namespace kp::store {

sqlite_connection::sqlite_connection(std::string const& path, bool read_only, char const* vfs) {
    int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX;   // each connection is used under its owner's mutex
    if (sqlite3_open_v2(path.c_str(), &db_, flags, vfs) != SQLITE_OK) {
        std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw store_error(path + ": " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 2000);
}

sqlite_connection::~sqlite_connection() {
    sqlite3_close_v2(db_);
}

void sqlite_connection::exec(std::string_view sql) {
    std::string text(sql);
    char* error = nullptr;
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error ? error : sqlite3_errmsg(db_);
        sqlite3_free(error);
        throw store_error("SQLite: " + message);
    }
}

}  // namespace kp::store
