#include "store/sqlite_store.hpp"

#include "store/sqlite_connection.hpp"
#include "store/sqlite_reader.hpp"
#include "store/sqlite_schema.hpp"
#include "store/sqlite_writer.hpp"
#include "store/store_error.hpp"

#include <chrono>
#include <filesystem>

namespace kp::store {

namespace {

std::int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The directory of `path`, created before the lock file is.
std::string const& with_directory(std::string const& path) {
    namespace fs = std::filesystem;
    auto parent = fs::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        if (ec) throw store_error(parent.string() + ": cannot create the directory: " + ec.message());
    }
    return path;
}

}  // namespace

sqlite_store::sqlite_store(std::string path, retention limits, durability mode, std::size_t cache_size,
                           clock_fn now_ms, char const* vfs)
    : path_(std::move(path)), lock_(with_directory(path_)), tails_(cache_size, limits.max_age_ms) {
    std::unique_ptr<sqlite_connection> writer;
    std::unique_ptr<sqlite_connection> reader;
    std::int64_t newest_stored_at = 0;
    try {
        writer = std::make_unique<sqlite_connection>(path_, false, vfs);
        writer->exec("PRAGMA journal_mode=WAL");
        writer->exec(mode == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        auto const schema = sqlite_schema::open(*writer, limits);
        epoch_ = schema.epoch();
        newest_stored_at = schema.newest_stored_at();
        reader = std::make_unique<sqlite_connection>(path_, true, vfs);
    } catch (store_error const& e) {
        std::string message = e.what();
        if (!message.starts_with(path_)) message = path_ + ": " + message;
        throw store_error(message);
    }
    writer_ = std::make_unique<sqlite_writer>(std::move(writer), limits, newest_stored_at,
                                              now_ms ? std::move(now_ms) : clock_fn(system_now_ms), tails_);
    reader_ = std::make_unique<sqlite_reader>(std::move(reader));
}

sqlite_store::~sqlite_store() = default;

std::vector<std::vector<appended_event>> sqlite_store::append_group(
    std::span<std::vector<append_event> const> transactions) {
    return writer_->append_group(transactions);
}

bool sqlite_store::read_in_memory(std::string const& channel, std::uint64_t after) {
    if (auto covered = tails_.covers(channel, after)) return *covered;
    return after >= reader_->position(channel).last;
}

std::vector<event_record> sqlite_store::read(std::string const& channel, std::uint64_t after, std::size_t limit) {
    if (auto held = tails_.read(channel, after, limit)) return std::move(*held);
    return reader_->read(channel, after, limit);
}

channel_span sqlite_store::span(std::string const& channel) {
    auto known = tails_.position(channel);
    stored_position const p = known ? *known : reader_->position(channel);
    return {p.last > p.trimmed_through ? p.trimmed_through + 1 : 0, p.last, p.trimmed_through > 0};
}

std::optional<timestamp_position> sqlite_store::position_in_memory(std::string const& channel,
                                                                  std::int64_t timestamp) {
    return tails_.position_after(channel, timestamp);
}

timestamp_position sqlite_store::position_after(std::string const& channel, std::int64_t timestamp) {
    if (auto position = position_in_memory(channel, timestamp)) return *position;
    return reader_->position_after(channel, timestamp, span(channel));
}

std::vector<std::string> sqlite_store::channels_with_prefix(std::string const& prefix) {
    return reader_->channels_with_prefix(prefix);
}

void sqlite_store::trim(std::int64_t now_ms) {
    writer_->trim(now_ms);
}

bool sqlite_store::healthy() {
    return writer_->healthy();
}

}  // namespace kp::store
