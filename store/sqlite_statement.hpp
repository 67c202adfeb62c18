#pragma once
// A prepared SQLite statement: binds, steps and reads columns; resets itself for reuse.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace kp::store {

class sqlite_statement {
public:
    sqlite_statement(sqlite3* db, std::string_view sql);
    ~sqlite_statement();
    sqlite_statement(sqlite_statement const&) = delete;
    sqlite_statement& operator=(sqlite_statement const&) = delete;

    sqlite_statement& bind(int index, std::int64_t value);
    sqlite_statement& bind(int index, std::string_view value);

    // True while a row is available; false when done. Throws store_error on failure.
    bool step();
    // Runs a statement that returns no rows.
    void run();
    // Clears bindings and rewinds, ready for the next use.
    void reset();

    std::int64_t column_int(int index) const;
    std::string column_text(int index) const;

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace kp::store
