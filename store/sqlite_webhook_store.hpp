#pragma once
// Webhooks and their positions in the history's SQLite file (tables `webhooks` and
// `webhook_positions`, created at open; an older history file gains them). One node: leases
// always held.
//
// Its own connection to the file, beside the history's writer and reader: WAL lets them share
// it, SQLite's busy timeout queues the writes of both (each is a short transaction), and the
// history's write path keeps its own lock and statements untouched. The connection's
// synchronous setting follows the history's durability, so a position is as durable as the
// events it acknowledges.

#include "store/sqlite_store.hpp"
#include "store/webhook_store.hpp"

#include <memory>
#include <mutex>

namespace kp::store {

class sqlite_connection;
class sqlite_statement;

class sqlite_webhook_store final : public webhook_store {
public:
    // Opens `path` (the history's file, opened by sqlite_store first: its lock keeps other
    // processes off) and creates the tables. Throws store_error naming the file.
    sqlite_webhook_store(std::string path, durability mode, char const* vfs = nullptr);
    ~sqlite_webhook_store() override;

    std::vector<stored_webhook> load_all() override;
    std::optional<stored_webhook> load(std::string const& id) override;
    bool create(stored_webhook const& webhook) override;
    bool update_definition(std::string const& id, std::string const& definition) override;
    bool save_positions(std::string const& id, std::vector<webhook_position> const& positions,
                        std::optional<std::string> const& holder) override;
    std::vector<bool> save_positions_group(std::vector<position_save> const& saves) override;
    void forget_positions(std::string const& id, std::vector<std::string> const& channels) override;
    bool remove(std::string const& id) override;
    bool hold_lease(std::string const&, std::string const&, std::chrono::milliseconds) override { return true; }
    void release_lease(std::string const&, std::string const&) override {}

private:
    void create_tables();
    // Runs `body` in one write transaction (BEGIN IMMEDIATE … COMMIT, rolled back on a throw).
    template <class F>
    auto in_transaction(F&& body) -> decltype(body());
    bool exists(std::string const& id);
    std::vector<webhook_position> positions_of(std::string const& id);
    void put_positions(std::string const& id, std::vector<webhook_position> const& positions);

    std::string path_;
    std::mutex mutex_;   // the connection and its statements
    std::unique_ptr<sqlite_connection> connection_;
    std::unique_ptr<sqlite_statement> select_all_;
    std::unique_ptr<sqlite_statement> select_one_;
    std::unique_ptr<sqlite_statement> select_positions_;
    std::unique_ptr<sqlite_statement> insert_webhook_;
    std::unique_ptr<sqlite_statement> update_webhook_;
    std::unique_ptr<sqlite_statement> delete_webhook_;
    std::unique_ptr<sqlite_statement> upsert_position_;
    std::unique_ptr<sqlite_statement> delete_position_;
    std::unique_ptr<sqlite_statement> delete_positions_;
};

}  // namespace kp::store
