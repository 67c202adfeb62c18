#include "store/sqlite_statement.hpp"

#include "store/store_error.hpp"

namespace kp::store {

sqlite_statement::sqlite_statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                           nullptr) != SQLITE_OK)
        throw store_error(std::string("SQLite prepare: ") + sqlite3_errmsg(db));
}

sqlite_statement::~sqlite_statement() {
    sqlite3_finalize(stmt_);
}

sqlite_statement& sqlite_statement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
}

bool sqlite_statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_);
    throw store_error("SQLite: " + message);
}

void sqlite_statement::run() {
    while (step()) {
    }
    reset();
}

void sqlite_statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t sqlite_statement::column_int(int index) const {
    return sqlite3_column_int64(stmt_, index);
}

std::string sqlite_statement::column_text(int index) const {
    auto const* text = reinterpret_cast<char const*>(sqlite3_column_text(stmt_, index));
    return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index))) : std::string();
}

}  // namespace kp::store
