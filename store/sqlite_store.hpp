#pragma once
// The durable history: a SQLite file in WAL mode (the embedded default). One SQLite
// transaction per group of published transactions, committed before anyone is answered; the
// recent tail of every channel also kept in memory, so that recent resumes never read the disk.

#include "store/history_store.hpp"
#include "store/sqlite_file_lock.hpp"
#include "store/sqlite_tail_cache.hpp"

#include <functional>
#include <memory>
#include <string>

namespace kp::store {

class sqlite_reader;
class sqlite_writer;

enum class durability { full, normal };

class sqlite_store final : public history_store {
public:
    using clock_fn = std::function<std::int64_t()>;

    // Opens or creates `path` (its directory too). Throws store_error naming the file when it is
    // unreadable, not a database, corrupt, or in use by another process. `vfs` selects a SQLite
    // VFS by name (tests use one that fails writes on demand).
    sqlite_store(std::string path, retention limits, durability mode, std::size_t cache_size,
                 clock_fn now_ms = {}, char const* vfs = nullptr);
    ~sqlite_store() override;

    std::string kind() const override { return "sqlite"; }
    std::string epoch() const override { return epoch_; }
    std::vector<std::vector<appended_event>> append_group(
        std::span<std::vector<append_event> const> transactions) override;
    bool read_in_memory(std::string const& channel, std::uint64_t after) override;
    std::vector<event_record> read(std::string const& channel, std::uint64_t after, std::size_t limit) override;
    channel_span span(std::string const& channel) override;
    timestamp_position position_after(std::string const& channel, std::int64_t timestamp) override;
    std::optional<timestamp_position> position_in_memory(std::string const& channel, std::int64_t timestamp) override;
    std::vector<std::string> channels_with_prefix(std::string const& prefix) override;
    void trim(std::int64_t now_ms) override;
    bool healthy() override;

private:
    // Destroyed in reverse: the reader, then the writer (its connection closes last), then the
    // lock.
    std::string path_;
    sqlite_file_lock lock_;
    std::string epoch_;
    sqlite_tail_cache tails_;
    std::unique_ptr<sqlite_writer> writer_;
    std::unique_ptr<sqlite_reader> reader_;
};

}  // namespace kp::store
