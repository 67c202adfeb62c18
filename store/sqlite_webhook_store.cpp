#include "store/sqlite_webhook_store.hpp"

#include "store/sqlite_connection.hpp"
#include "store/sqlite_statement.hpp"
#include "store/store_error.hpp"

namespace kp::store {

namespace {

// The webhook tables' own version, beside the history's (meta key "schema"): a file without
// them is an older history file, which gains them; the history's readers ignore them.
constexpr int webhooks_schema_version = 1;

}  // namespace

sqlite_webhook_store::sqlite_webhook_store(std::string path, durability mode, char const* vfs)
    : path_(std::move(path)) {
    try {
        connection_ = std::make_unique<sqlite_connection>(path_, false, vfs);
        connection_->exec("PRAGMA journal_mode=WAL");
        connection_->exec(mode == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        create_tables();
        auto* db = connection_->get();
        select_all_ = std::make_unique<sqlite_statement>(db, "SELECT id, definition FROM webhooks ORDER BY id");
        select_one_ = std::make_unique<sqlite_statement>(db, "SELECT definition FROM webhooks WHERE id = ?1");
        select_positions_ = std::make_unique<sqlite_statement>(
            db, "SELECT channel, epoch, offset, timestamp FROM webhook_positions WHERE id = ?1 ORDER BY channel");
        insert_webhook_ = std::make_unique<sqlite_statement>(
            db, "INSERT INTO webhooks(id, definition) VALUES (?1, ?2) ON CONFLICT(id) DO NOTHING");
        update_webhook_ = std::make_unique<sqlite_statement>(db, "UPDATE webhooks SET definition = ?2 WHERE id = ?1");
        delete_webhook_ = std::make_unique<sqlite_statement>(db, "DELETE FROM webhooks WHERE id = ?1");
        upsert_position_ = std::make_unique<sqlite_statement>(
            db,
            "INSERT INTO webhook_positions(id, channel, epoch, offset, timestamp) VALUES (?1, ?2, ?3, ?4, ?5) "
            "ON CONFLICT(id, channel) DO UPDATE SET epoch = excluded.epoch, offset = excluded.offset, "
            "timestamp = excluded.timestamp");
        delete_position_ =
            std::make_unique<sqlite_statement>(db, "DELETE FROM webhook_positions WHERE id = ?1 AND channel = ?2");
        delete_positions_ = std::make_unique<sqlite_statement>(db, "DELETE FROM webhook_positions WHERE id = ?1");
    } catch (store_error const& e) {
        std::string message = e.what();
        if (!message.starts_with(path_)) message = path_ + ": " + message;
        throw store_error(message);
    }
}

sqlite_webhook_store::~sqlite_webhook_store() {
    // The statements are finalized before their connection closes.
    select_all_.reset();
    select_one_.reset();
    select_positions_.reset();
    insert_webhook_.reset();
    update_webhook_.reset();
    delete_webhook_.reset();
    upsert_position_.reset();
    delete_position_.reset();
    delete_positions_.reset();
}

template <class F>
auto sqlite_webhook_store::in_transaction(F&& body) -> decltype(body()) {
    connection_->exec("BEGIN IMMEDIATE");
    try {
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            connection_->exec("COMMIT");
        } else {
            auto result = body();
            connection_->exec("COMMIT");
            return result;
        }
    } catch (store_error const&) {
        sqlite3_exec(connection_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void sqlite_webhook_store::create_tables() {
    in_transaction([this] {
        connection_->exec(
            "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS webhooks(id TEXT PRIMARY KEY, definition TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS webhook_positions(id TEXT NOT NULL, channel TEXT NOT NULL,"
            "  epoch TEXT NOT NULL, offset INTEGER NOT NULL, timestamp INTEGER NOT NULL,"
            "  PRIMARY KEY(id, channel)) WITHOUT ROWID;");
        sqlite_statement get(connection_->get(), "SELECT value FROM meta WHERE key = 'webhooks_schema'");
        if (get.step()) {
            auto version = get.column_text(0);
            if (version != std::to_string(webhooks_schema_version))
                throw store_error("webhooks schema version " + version + ", this build reads " +
                                  std::to_string(webhooks_schema_version));
        } else {
            sqlite_statement put(connection_->get(), "INSERT INTO meta(key, value) VALUES ('webhooks_schema', ?1)");
            put.bind(1, std::to_string(webhooks_schema_version)).run();
        }
        get.reset();
    });
}

bool sqlite_webhook_store::exists(std::string const& id) {
    select_one_->bind(1, id);
    bool const found = select_one_->step();
    select_one_->reset();
    return found;
}

std::vector<webhook_position> sqlite_webhook_store::positions_of(std::string const& id) {
    std::vector<webhook_position> out;
    select_positions_->bind(1, id);
    try {
        while (select_positions_->step())
            out.push_back({select_positions_->column_text(0), select_positions_->column_text(1),
                           static_cast<std::uint64_t>(select_positions_->column_int(2)),
                           select_positions_->column_int(3)});
    } catch (store_error const&) {
        select_positions_->reset();
        throw;
    }
    select_positions_->reset();
    return out;
}

void sqlite_webhook_store::put_positions(std::string const& id, std::vector<webhook_position> const& positions) {
    for (auto const& p : positions) {
        upsert_position_->bind(1, id)
            .bind(2, p.channel)
            .bind(3, p.epoch)
            .bind(4, static_cast<std::int64_t>(p.offset))
            .bind(5, p.timestamp)
            .run();
    }
}

std::vector<stored_webhook> sqlite_webhook_store::load_all() {
    std::lock_guard lock(mutex_);
    // One read transaction: the webhooks and their positions as of one moment.
    connection_->exec("BEGIN");
    try {
        std::vector<stored_webhook> out;
        while (select_all_->step()) out.push_back({select_all_->column_text(0), select_all_->column_text(1), {}});
        select_all_->reset();
        for (auto& webhook : out) webhook.positions = positions_of(webhook.id);
        connection_->exec("COMMIT");
        return out;
    } catch (store_error const&) {
        select_all_->reset();
        sqlite3_exec(connection_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

std::optional<stored_webhook> sqlite_webhook_store::load(std::string const& id) {
    std::lock_guard lock(mutex_);
    connection_->exec("BEGIN");
    try {
        std::optional<stored_webhook> out;
        select_one_->bind(1, id);
        if (select_one_->step()) out = stored_webhook{id, select_one_->column_text(0), {}};
        select_one_->reset();
        if (out) out->positions = positions_of(id);
        connection_->exec("COMMIT");
        return out;
    } catch (store_error const&) {
        select_one_->reset();
        sqlite3_exec(connection_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

bool sqlite_webhook_store::create(stored_webhook const& webhook) {
    std::lock_guard lock(mutex_);
    return in_transaction([&] {
        insert_webhook_->bind(1, webhook.id).bind(2, webhook.definition).run();
        if (sqlite3_changes(connection_->get()) == 0) return false;
        delete_positions_->bind(1, webhook.id).run();   // none left by an earlier webhook of that id
        put_positions(webhook.id, webhook.positions);
        return true;
    });
}

bool sqlite_webhook_store::update_definition(std::string const& id, std::string const& definition) {
    std::lock_guard lock(mutex_);
    return in_transaction([&] {
        update_webhook_->bind(1, id).bind(2, definition).run();
        return sqlite3_changes(connection_->get()) > 0;
    });
}

bool sqlite_webhook_store::save_positions(std::string const& id, std::vector<webhook_position> const& positions,
                                          std::optional<std::string> const&) {
    std::lock_guard lock(mutex_);
    return in_transaction([&] {
        if (!exists(id)) return false;
        put_positions(id, positions);
        return true;
    });
}

std::vector<bool> sqlite_webhook_store::save_positions_group(std::vector<position_save> const& saves) {
    std::lock_guard lock(mutex_);
    return in_transaction([&] {
        std::vector<bool> out;
        out.reserve(saves.size());
        for (auto const& save : saves) {
            bool const kept = exists(save.id);
            if (kept) put_positions(save.id, save.positions);
            out.push_back(kept);
        }
        return out;
    });
}

void sqlite_webhook_store::forget_positions(std::string const& id, std::vector<std::string> const& channels) {
    if (channels.empty()) return;
    std::lock_guard lock(mutex_);
    in_transaction([&] {
        for (auto const& channel : channels) delete_position_->bind(1, id).bind(2, channel).run();
    });
}

bool sqlite_webhook_store::remove(std::string const& id) {
    std::lock_guard lock(mutex_);
    return in_transaction([&] {
        delete_webhook_->bind(1, id).run();
        bool const removed = sqlite3_changes(connection_->get()) > 0;
        delete_positions_->bind(1, id).run();
        return removed;
    });
}

}  // namespace kp::store
