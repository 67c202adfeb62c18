// store::sqlite_store specifics: what survives a restart, the in-memory tail, count retention (at
// append, and for a lowered limit after a restart), start-up failures, and write failures at run
// time (a test VFS that makes writes fail with SQLITE_FULL on demand), also seen through
// channels::channel_hub.
// The behaviour shared with memory_store is in history_store_contract_test.cpp.

#include "channels/channel_hub.hpp"
#include "store/sqlite_store.hpp"
#include "store/store_error.hpp"

#include "tests/support/faulty_vfs.hpp"
#include "tests/unit/store/store_test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <vector>

using Catch::Matchers::Contains;
using kp::channels::channel_hub;
using kp::channels::message_batch;
using kp::channels::publish_result;
using kp::channels::since_position;
using kp::store::append_event;
using kp::store::channel_offset;
using kp::store::channel_span;
using kp::store::durability;
using kp::store::event_record;
using kp::store::retention;
using kp::store::sqlite_store;
using kp::store::store_error;
using ordered = nlohmann::ordered_json;

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t start_ms = 1'700'000'000'000;
constexpr std::int64_t one_day_ms = 86'400'000;

class temp_dir {
public:
    temp_dir() {
        std::random_device rd;
        std::uniform_int_distribution<std::uint64_t> dist;
        path_ = fs::temp_directory_path() / ("kp-sqlite-" + std::to_string(dist(rd)));
        fs::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    temp_dir(temp_dir const&) = delete;
    temp_dir& operator=(temp_dir const&) = delete;
    fs::path const& path() const { return path_; }
    std::string file(std::string const& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

struct manual_clock {
    std::int64_t now = start_ms;
    sqlite_store::clock_fn fn() {
        return [this] { return now; };
    }
};

using namespace store_test;

void check_same_records(std::vector<event_record> const& actual, std::vector<event_record> const& expected) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        INFO("record " << i);
        CHECK(actual[i].channel == expected[i].channel);
        CHECK(actual[i].offset == expected[i].offset);
        CHECK(actual[i].timestamp == expected[i].timestamp);
        CHECK(actual[i].stored_at_ms == expected[i].stored_at_ms);
        CHECK(actual[i].body == expected[i].body);
    }
}

// Appends `count` single-channel events on `channel` (keys `prefix`1…, timestamps 100, 200, …)
// and returns what the history should hold for them.
std::vector<event_record> fill(sqlite_store& store, manual_clock& clock, std::string const& channel, int count,
                               std::string const& prefix = "e") {
    std::vector<event_record> out;
    for (int i = 1; i <= count; ++i) {
        ++clock.now;
        auto const key = prefix + std::to_string(i);
        auto const result = store.append({event(key, {channel}, 100 * i)});
        out.push_back({channel, result.at(0).offsets.at(0).offset, 100 * i, clock.now, body_of(key, channel)});
    }
    return out;
}

// The message of the store_error `open` throws.
std::string startup_error(std::function<void()> const& open) {
    try {
        open();
    } catch (store_error const& e) {
        return e.what();
    }
    FAIL("no store_error was thrown");
    return {};
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}


// A Kinto record event on /buckets/b/collections/{cid} (see PROTOCOL.md section 2).
ordered record_event(std::string const& cid, std::string const& rid, std::int64_t last_modified) {
    ordered event;
    event["payload"] = {{"timestamp", last_modified},
                        {"action", "update"},
                        {"uri", "/buckets/b/collections/" + cid + "/records/" + rid},
                        {"user_id", "account:alice"},
                        {"resource_name", "record"},
                        {"bucket_id", "b"},
                        {"collection_id", cid},
                        {"record_id", rid}};
    event["impacted_objects"] = ordered::array({{{"new", {{"id", rid}, {"last_modified", last_modified}}}}});
    return event;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Restart

TEST_CASE("sqlite store: a reopened file keeps its epoch, history, numbering and dedupe keys",
          "[store][sqlite]") {
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    manual_clock clock;

    std::string epoch;
    std::vector<channel_offset> k2_offsets;
    std::vector<event_record> c_records;
    {
        sqlite_store store(path, retention{}, durability::full, 1000, clock.fn());
        epoch = store.epoch();
        CHECK(epoch.size() == 8);
        store.append({event("k1", {col_c, bucket_b}, 100)});
        k2_offsets = store.append({event("k2", {col_c, bucket_b}, 200)})[0].offsets;
        store.append({event("k3", {col_c}, 300), event("k4", {col_d, bucket_b}, 400)});
        c_records = store.read(col_c, 0, 100);
        REQUIRE(offsets_of(c_records) == range(1, 3));
    }

    {
        sqlite_store store(path, retention{}, durability::full, 1000, clock.fn());
        CHECK(store.epoch() == epoch);
        check_span(store.span(col_c), 1, 3, false);
        check_span(store.span(col_d), 1, 1, false);
        check_span(store.span(bucket_b), 1, 3, false);
        check_same_records(store.read(col_c, 0, 100), c_records);
        CHECK(offsets_of(store.read(bucket_b, 1, 100)) == range(2, 3));
        CHECK(store.channels_with_prefix("/buckets/b") == std::vector<std::string>{bucket_b, col_c, col_d});
        auto const position = store.position_after(col_c, 150);
        CHECK(position.after == 1);
        CHECK(position.covered);

        // A retried event is a duplicate with its first offsets; a new one continues the numbering.
        auto const retry = store.append({event("k2", {col_c, bucket_b}, 200), event("k5", {col_c, bucket_b}, 500)});
        REQUIRE(retry.size() == 2);
        CHECK(retry[0].duplicate);
        CHECK(retry[0].offsets == k2_offsets);
        CHECK_FALSE(retry[1].duplicate);
        CHECK(retry[1].offsets == std::vector<channel_offset>{{col_c, 4}, {bucket_b, 4}});
        CHECK(store.append({event("k4", {col_d, bucket_b}, 400)})[0].offsets ==
              std::vector<channel_offset>{{col_d, 1}, {bucket_b, 3}});
    }

    SECTION("and again") {
        sqlite_store store(path, retention{}, durability::normal, 1000, clock.fn());
        CHECK(store.epoch() == epoch);
        check_span(store.span(col_c), 1, 4, false);
        check_span(store.span(bucket_b), 1, 4, false);
        CHECK(store.append({event("k6", {col_c}, 600)})[0].offsets == std::vector<channel_offset>{{col_c, 5}});
    }

    SECTION("a fresh file gets a new epoch") {
        sqlite_store store(dir.file("other/history.sqlite3"), retention{}, durability::full, 1000, clock.fn());
        CHECK(store.epoch() != epoch);
        check_span(store.span(col_c), 0, 0, false);
        CHECK(store.read(col_c, 0, 100).empty());
        CHECK(store.channels_with_prefix("").empty());
    }

    SECTION("a deleted file gets a new epoch and a new history") {
        for (auto const* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
        sqlite_store store(path, retention{}, durability::full, 1000, clock.fn());
        CHECK(store.epoch() != epoch);
        CHECK(store.epoch().size() == 8);
        check_span(store.span(col_c), 0, 0, false);
        CHECK(store.read(col_c, 0, 100).empty());
        auto const again = store.append({event("k2", {col_c, bucket_b}, 200)});
        CHECK_FALSE(again[0].duplicate);
        CHECK(again[0].offsets == std::vector<channel_offset>{{col_c, 1}, {bucket_b, 1}});
    }
}

// ---------------------------------------------------------------------------------------------
// The in-memory tail

TEST_CASE("sqlite store: the last cache_size events of a channel are read from memory", "[store][sqlite]") {
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    manual_clock clock;
    std::vector<event_record> expected;
    {
        sqlite_store store(path, retention{}, durability::normal, 3, clock.fn());
        CHECK(store.read_in_memory(col_c, 0));   // nothing to read
        expected = fill(store, clock, col_c, 5);
        fill(store, clock, col_d, 1, "d");

        // Offsets 3, 4, 5 are cached: a read after 2 or later needs no disk.
        CHECK_FALSE(store.read_in_memory(col_c, 0));
        CHECK_FALSE(store.read_in_memory(col_c, 1));
        for (std::uint64_t after = 2; after <= 7; ++after) {
            INFO("after " << after);
            CHECK(store.read_in_memory(col_c, after));
        }
        CHECK(store.read_in_memory(col_d, 0));

        // Both paths give the same records.
        check_same_records(store.read(col_c, 0, 100), expected);                                     // disk
        check_same_records(store.read(col_c, 1, 2), {expected[1], expected[2]});                     // disk
        check_same_records(store.read(col_c, 2, 100), {expected[2], expected[3], expected[4]});      // memory
        check_same_records(store.read(col_c, 3, 1), {expected[3]});                                  // memory
        CHECK(store.read(col_c, 5, 100).empty());

        // A group of several events on one channel: the cache keeps its last three.
        ++clock.now;
        auto const group = store.append({event("g1", {col_c}, 601), event("g2", {col_c}, 602),
                                         event("g3", {col_c}, 603), event("g4", {col_c}, 604)});
        for (int i = 0; i < 4; ++i) {
            auto const key = "g" + std::to_string(i + 1);
            expected.push_back({col_c, 6 + static_cast<std::uint64_t>(i), 601 + i, clock.now, body_of(key, col_c)});
            CHECK(group[i].offsets == std::vector<channel_offset>{{col_c, 6 + static_cast<std::uint64_t>(i)}});
        }
        CHECK_FALSE(store.read_in_memory(col_c, 4));
        CHECK_FALSE(store.read_in_memory(col_c, 5));
        CHECK(store.read_in_memory(col_c, 6));
        CHECK(store.read_in_memory(col_c, 9));
        check_same_records(store.read(col_c, 0, 100), expected);
        check_same_records(store.read(col_c, 7, 100), {expected[7], expected[8]});
        check_same_records(store.read(col_c, 4, 3), {expected[4], expected[5], expected[6]});
    }

    // After a restart nothing is in memory until new events arrive; the disk answers.
    sqlite_store store(path, retention{}, durability::normal, 3, clock.fn());
    for (std::uint64_t after = 0; after < 9; ++after) {
        INFO("after " << after);
        CHECK_FALSE(store.read_in_memory(col_c, after));
    }
    CHECK(store.read_in_memory(col_c, 9));
    CHECK(store.read_in_memory(col_c, 100));
    CHECK_FALSE(store.read_in_memory(col_d, 0));
    CHECK(store.read_in_memory(col_d, 1));
    check_same_records(store.read(col_c, 0, 100), expected);
    check_same_records(store.read(col_c, 8, 100), {expected[8]});

    expected.push_back(fill(store, clock, col_c, 1, "after-restart").front());
    CHECK(expected.back().offset == 10);
    CHECK(store.read_in_memory(col_c, 9));
    CHECK(store.read_in_memory(col_c, 10));
    CHECK_FALSE(store.read_in_memory(col_c, 8));
    CHECK_FALSE(store.read_in_memory(col_c, 0));
    CHECK_FALSE(store.read_in_memory(col_d, 0));
    check_same_records(store.read(col_c, 9, 100), {expected[9]});
    check_same_records(store.read(col_c, 0, 100), expected);
    check_same_records(store.read(col_c, 7, 2), {expected[7], expected[8]});
}

TEST_CASE("sqlite store: with no cache every read of history goes to the disk", "[store][sqlite]") {
    temp_dir dir;
    manual_clock clock;
    sqlite_store store(dir.file("history.sqlite3"), retention{}, durability::normal, 0, clock.fn());
    auto const expected = fill(store, clock, col_c, 3);
    for (std::uint64_t after = 0; after < 3; ++after) CHECK_FALSE(store.read_in_memory(col_c, after));
    CHECK(store.read_in_memory(col_c, 3));
    check_same_records(store.read(col_c, 0, 100), expected);
    check_same_records(store.read(col_c, 2, 100), {expected[2]});
}

// ---------------------------------------------------------------------------------------------
// Count trimming

TEST_CASE("sqlite store: count retention, and plans fail for trimmed positions",
          "[store][sqlite]") {
    temp_dir dir;
    manual_clock clock;
    sqlite_store store(dir.file("history.sqlite3"), retention{3, one_day_ms}, durability::normal, 1000, clock.fn());
    auto const expected = fill(store, clock, col_c, 5);   // timestamps 100…500

    // Retention by count is applied as events are appended (history_store.hpp), and holds after trim().
    check_span(store.span(col_c), 3, 5, true);
    check_same_records(store.read(col_c, 0, 100), {expected[2], expected[3], expected[4]});
    store.trim(clock.now);
    check_span(store.span(col_c), 3, 5, true);
    check_same_records(store.read(col_c, 0, 100), {expected[2], expected[3], expected[4]});
    check_same_records(store.read(col_c, 2, 100), {expected[2], expected[3], expected[4]});
    CHECK(store.read_in_memory(col_c, 2));

    channel_hub hub(store, 1000);
    auto const epoch = store.epoch();
    auto plan = hub.plan_from(col_c, since_position{epoch, 0});
    CHECK_FALSE(plan.recovered);
    CHECK_FALSE(plan.replay);
    CHECK(plan.offset == 5);
    CHECK_FALSE(hub.plan_from(col_c, since_position{epoch, 1}).recovered);
    plan = hub.plan_from(col_c, since_position{epoch, 2});
    CHECK(plan.recovered);
    CHECK(plan.replay);
    CHECK(plan.replay_after == 2);
    plan = hub.plan_from(col_c, since_position{epoch, 5});
    CHECK(plan.recovered);
    CHECK_FALSE(plan.replay);
    // By timestamp: 250 fell between trimmed events, 300 is held.
    CHECK_FALSE(hub.plan_from_position(col_c, store.position_after(col_c, 250)).recovered);
    plan = hub.plan_from_position(col_c, store.position_after(col_c, 300));
    CHECK(plan.recovered);
    CHECK(plan.replay_after == 3);
}

TEST_CASE("sqlite store: channels over a lowered count limit are trimmed after a restart",
          "[store][sqlite]") {
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    manual_clock clock;
    std::vector<event_record> c_expected;
    std::vector<event_record> d_expected;
    {
        sqlite_store store(path, retention{10, one_day_ms}, durability::normal, 1000, clock.fn());
        c_expected = fill(store, clock, col_c, 8);
        d_expected = fill(store, clock, col_d, 6, "d");
        fill(store, clock, bucket_b, 2, "b");
        store.trim(clock.now);
        check_span(store.span(col_c), 1, 8, false);
        check_span(store.span(col_d), 1, 6, false);
    }

    std::string epoch;
    {
        // A lower limit now: col_c and col_d are over it, though nothing is appended to them.
        // It applies as the store opens, and still holds after trim().
        sqlite_store store(path, retention{3, one_day_ms}, durability::normal, 1000, clock.fn());
        epoch = store.epoch();
        check_span(store.span(col_c), 6, 8, true);
        check_span(store.span(col_d), 4, 6, true);
        check_span(store.span(bucket_b), 1, 2, false);
        CHECK(offsets_of(store.read(col_c, 0, 100)) == range(6, 8));
        store.trim(clock.now);
        check_span(store.span(col_c), 6, 8, true);
        check_span(store.span(col_d), 4, 6, true);
        check_span(store.span(bucket_b), 1, 2, false);
        check_same_records(store.read(col_c, 0, 100), {c_expected[5], c_expected[6], c_expected[7]});
        check_same_records(store.read(col_d, 0, 100), {d_expected[3], d_expected[4], d_expected[5]});
        CHECK(offsets_of(store.read(bucket_b, 0, 100)) == range(1, 2));

        // Numbering carries on from the disk, and the window slides.
        CHECK(store.append({event("new", {col_c}, 900)})[0].offsets == std::vector<channel_offset>{{col_c, 9}});
        store.trim(clock.now);
        check_span(store.span(col_c), 7, 9, true);
        CHECK(offsets_of(store.read(col_c, 0, 100)) == range(7, 9));
    }

    // trimmed_through is stored: after another restart the spans and plans still know.
    sqlite_store store(path, retention{3, one_day_ms}, durability::normal, 1000, clock.fn());
    check_span(store.span(col_c), 7, 9, true);
    check_span(store.span(col_d), 4, 6, true);
    CHECK(offsets_of(store.read(col_d, 0, 100)) == range(4, 6));
    channel_hub hub(store, 1000);
    CHECK_FALSE(hub.plan_from(col_d, since_position{epoch, 2}).recovered);
    auto const plan = hub.plan_from(col_d, since_position{epoch, 3});
    CHECK(plan.recovered);
    CHECK(plan.replay);
    CHECK(plan.replay_after == 3);
    CHECK(plan.offset == 6);
    auto const position = store.position_after(col_d, 50);
    CHECK(position.after == 3);
    CHECK_FALSE(position.covered);
    CHECK_FALSE(hub.plan_from_position(col_d, position).recovered);
}

// ---------------------------------------------------------------------------------------------
// Start-up failures

TEST_CASE("sqlite store: a file that is not a database is refused, naming the file", "[store][sqlite]") {
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    {
        std::mt19937 random(42);
        std::ofstream out(path, std::ios::binary);
        for (int i = 0; i < 16384; ++i) out.put(static_cast<char>(random() & 0xff));
    }
    auto const message = startup_error([&] { sqlite_store store(path, retention{}, durability::full, 10); });
    INFO(message);
    CHECK_THAT(message, Contains(path));
    bool const explained = lower(message).find("not a database") != std::string::npos ||
                           lower(message).find("corrupt") != std::string::npos ||
                           lower(message).find("malformed") != std::string::npos;
    CHECK(explained);
}

TEST_CASE("sqlite store: a corrupt database is refused, naming the file", "[store][sqlite]") {
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    {
        manual_clock clock;
        sqlite_store store(path, retention{}, durability::full, 10, clock.fn());
        fill(store, clock, col_c, 20);
    }
    REQUIRE_FALSE(fs::exists(path + "-wal"));   // checkpointed into the main file at close
    auto const size = fs::file_size(path);
    REQUIRE(size > 4096);
    {
        // Keep the header and schema (page 1), scribble over every table and index page.
        std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
        file.seekp(4096);
        for (auto i = std::uintmax_t{4096}; i < size; ++i) file.put(static_cast<char>(0xa5));
    }
    auto const message = startup_error([&] { sqlite_store store(path, retention{}, durability::full, 10); });
    INFO(message);
    CHECK_THAT(message, Contains(path));
    bool const explained = lower(message).find("corrupt") != std::string::npos ||
                           lower(message).find("malformed") != std::string::npos;
    CHECK(explained);
}

TEST_CASE("sqlite store: a directory where the file cannot be created is refused", "[store][sqlite]") {
    temp_dir dir;
    fs::path db;
    if (::geteuid() == 0) {
        // Root ignores permission bits, so a chmod 0555 directory would not stop it (the tests
        // run as root in CI). A regular file used as the "directory" makes creation fail instead.
        auto const file = dir.path() / "file.txt";
        std::ofstream(file) << "not a directory\n";
        db = file / "history.sqlite3";
    } else {
        auto const read_only = dir.path() / "read-only";
        fs::create_directories(read_only);
        fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                       fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
        db = read_only / "history.sqlite3";
    }
    auto const message = startup_error([&] { sqlite_store store(db.string(), retention{}, durability::full, 10); });
    INFO(message);
    // The message names where it failed: the directory it could not create (root) or the file.
    CHECK_THAT(message, Contains(db.parent_path().string()));
    if (::geteuid() != 0) CHECK_THAT(message, Contains(db.string()));
    CHECK_FALSE(fs::exists(db));
    std::error_code ec;
    fs::permissions(db.parent_path(), fs::perms::owner_all, fs::perm_options::add, ec);
}

TEST_CASE("sqlite store: a file in use by another store is refused", "[store][sqlite]") {
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    manual_clock clock;
    std::string epoch;
    {
        sqlite_store first(path, retention{}, durability::full, 10, clock.fn());
        epoch = first.epoch();
        first.append({event("k1", {col_c})});
        auto const message = startup_error([&] { sqlite_store store(path, retention{}, durability::full, 10); });
        INFO(message);
        CHECK_THAT(message, Contains(path));
        CHECK_THAT(message, Contains("in use by another kinto-push process"));
        // The first one is undisturbed.
        CHECK(first.append({event("k2", {col_c})})[0].offsets == std::vector<channel_offset>{{col_c, 2}});
        CHECK(first.healthy());
    }
    // Once it is closed, the file opens again.
    sqlite_store again(path, retention{}, durability::full, 10, clock.fn());
    CHECK(again.epoch() == epoch);
    check_span(again.span(col_c), 1, 2, false);
}

// ---------------------------------------------------------------------------------------------
// Write failures at run time (disk full)

TEST_CASE("sqlite store: a failing write stores nothing of the group, and the store recovers",
          "[store][sqlite]") {
    auto const* vfs = faulty_vfs::install();
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    manual_clock clock;
    auto store = std::make_unique<sqlite_store>(path, retention{}, durability::full, 1000, clock.fn(), vfs);
    store->append({event("k1", {col_c, bucket_b}, 100)});
    store->append({event("k2", {col_c, bucket_b}, 200)});
    auto const c_before = store->read(col_c, 0, 100);
    auto const b_before = store->read(bucket_b, 0, 100);
    REQUIRE(c_before.size() == 2);
    CHECK(store->healthy());

    {
        faulty_vfs::failing_writes failing;
        faulty_vfs::refused_writes = 0;
        std::string message;
        try {
            store->append({event("k3", {col_c, bucket_b}, 300)});
            FAIL("append succeeded while writes fail");
        } catch (store_error const& e) {
            message = e.what();
        }
        CHECK(faulty_vfs::refused_writes > 0);
        CHECK_THAT(lower(message), Contains("full"));

        std::vector<std::vector<append_event>> const group{
            {event("k4", {col_c, bucket_b}, 400)},
            {event("k5", {col_d, bucket_b}, 500), event("k1", {col_c, bucket_b}, 100)},
        };
        CHECK_THROWS_AS(store->append_group(group), store_error);
        CHECK_FALSE(store->healthy());
        CHECK_FALSE(store->healthy());
        CHECK_THROWS_AS(store->append({event("k3", {col_c, bucket_b}, 300)}), store_error);

        // Nothing of it is visible; reads still work.
        check_span(store->span(col_c), 1, 2, false);
        check_span(store->span(bucket_b), 1, 2, false);
        check_span(store->span(col_d), 0, 0, false);
        check_same_records(store->read(col_c, 0, 100), c_before);
        check_same_records(store->read(bucket_b, 0, 100), b_before);
        CHECK(store->read(col_d, 0, 100).empty());
        CHECK(store->channels_with_prefix("/buckets/b/collections/") == std::vector<std::string>{col_c});
        CHECK(store->read_in_memory(col_c, 2));

        // A trim that cannot write is retried later, without throwing.
        CHECK_NOTHROW(store->trim(clock.now));
        CHECK_FALSE(store->healthy());
    }

    CHECK(store->healthy());
    // Offsets were not consumed and the keys were not remembered.
    auto const k3 = store->append({event("k3", {col_c, bucket_b}, 300)});
    CHECK_FALSE(k3[0].duplicate);
    CHECK(k3[0].offsets == std::vector<channel_offset>{{col_c, 3}, {bucket_b, 3}});
    std::vector<std::vector<append_event>> const group{
        {event("k4", {col_c, bucket_b}, 400)},
        {event("k5", {col_d, bucket_b}, 500), event("k1", {col_c, bucket_b}, 100)},
    };
    auto const results = store->append_group(group);
    CHECK(results[0][0].offsets == std::vector<channel_offset>{{col_c, 4}, {bucket_b, 4}});
    CHECK(results[1][0].offsets == std::vector<channel_offset>{{col_d, 1}, {bucket_b, 5}});
    CHECK(results[1][1].duplicate);
    CHECK(results[1][1].offsets == std::vector<channel_offset>{{col_c, 1}, {bucket_b, 1}});
    CHECK(offsets_of(store->read(col_c, 0, 100)) == range(1, 4));
    CHECK(offsets_of(store->read(bucket_b, 0, 100)) == range(1, 5));
    CHECK(store->healthy());

    // The disk agrees: reopen (with the default VFS) and read everything back.
    store.reset();
    sqlite_store reopened(path, retention{}, durability::full, 1000, clock.fn());
    check_span(reopened.span(col_c), 1, 4, false);
    check_span(reopened.span(bucket_b), 1, 5, false);
    check_span(reopened.span(col_d), 1, 1, false);
    auto const c_after = reopened.read(col_c, 0, 100);
    REQUIRE(c_after.size() == 4);
    check_same_records({c_after[0], c_after[1]}, c_before);
    CHECK(c_after[2].body == body_of("k3", col_c));
    CHECK(c_after[3].body == body_of("k4", col_c));
}

TEST_CASE("sqlite store: a trim that failed to write is done by the next one", "[store][sqlite]") {
    auto const* vfs = faulty_vfs::install();
    temp_dir dir;
    manual_clock clock;
    sqlite_store store(dir.file("history.sqlite3"), retention{1000, 1000}, durability::full, 1000, clock.fn(), vfs);
    fill(store, clock, col_c, 4);
    clock.now += 5000;
    {
        // Everything aged out, but dropping it needs a write.
        faulty_vfs::failing_writes failing;
        CHECK_NOTHROW(store.trim(clock.now));
        CHECK_FALSE(store.healthy());
        check_span(store.span(col_c), 1, 4, false);
        CHECK(offsets_of(store.read(col_c, 0, 100)) == range(1, 4));
    }
    CHECK(store.healthy());
    store.trim(clock.now);
    check_span(store.span(col_c), 0, 4, true);
    CHECK(store.read(col_c, 0, 100).empty());
    CHECK(store.append({event("next", {col_c})})[0].offsets == std::vector<channel_offset>{{col_c, 5}});
}

TEST_CASE("sqlite store: the hub answers unavailable and fans out nothing while writes fail",
          "[store][sqlite]") {
    auto const* vfs = faulty_vfs::install();
    temp_dir dir;
    manual_clock clock;
    sqlite_store store(dir.file("history.sqlite3"), retention{}, durability::full, 1000, clock.fn(), vfs);
    channel_hub hub(store, 1000);
    std::vector<std::vector<std::pair<std::string, std::uint64_t>>> batches;
    hub.add_shard([&](message_batch batch) {
        auto& out = batches.emplace_back();
        for (auto const& m : *batch) out.emplace_back(m->channel, m->offset);
    });

    auto const first = hub.publish(record_event("c", "r1", 100));
    REQUIRE(first.outcome == publish_result::status::ok);
    CHECK(first.published == std::vector<channel_offset>{{col_c, 1}, {bucket_b, 1}, {firehose, 1}});
    REQUIRE(batches.size() == 1);

    {
        faulty_vfs::failing_writes failing;
        auto const refused = hub.publish(record_event("c", "r2", 200));
        CHECK(refused.outcome == publish_result::status::unavailable);
        CHECK_FALSE(refused.error.empty());
        CHECK(refused.published.empty());

        auto const a = record_event("c", "r3", 300);
        auto const b = record_event("d", "r4", 400);
        auto const both = hub.publish_all({&a, &b});
        REQUIRE(both.size() == 2);
        CHECK(both[0].outcome == publish_result::status::unavailable);
        CHECK(both[1].outcome == publish_result::status::unavailable);

        CHECK(batches.size() == 1);
        CHECK_FALSE(store.healthy());
        check_span(store.span(col_c), 1, 1, false);
        check_span(store.span(firehose), 1, 1, false);
    }

    CHECK(store.healthy());
    auto const retried = hub.publish(record_event("c", "r2", 200));
    REQUIRE(retried.outcome == publish_result::status::ok);
    CHECK(retried.published == std::vector<channel_offset>{{col_c, 2}, {bucket_b, 2}, {firehose, 2}});
    REQUIRE(batches.size() == 2);
    CHECK(batches[1] == std::vector<std::pair<std::string, std::uint64_t>>{{col_c, 2}, {bucket_b, 2}, {firehose, 2}});
    check_span(store.span(col_c), 1, 2, false);
}

// ---------------------------------------------------------------------------------------------
// Edges

TEST_CASE("sqlite store: stored_at never goes backwards, even if the clock does", "[store][sqlite]") {
    temp_dir dir;
    manual_clock clock;
    sqlite_store store(dir.file("history.sqlite3"), retention{1000, 1000}, durability::normal, 1000, clock.fn());
    clock.now = start_ms;
    store.append({event("e1", {col_c}, 100)});
    clock.now = start_ms - 60'000;   // the wall clock steps back a minute
    store.append({event("e2", {col_c}, 200)});
    auto const records = store.read(col_c, 0, 100);
    REQUIRE(records.size() == 2);
    CHECK(records[1].stored_at_ms >= records[0].stored_at_ms);

    // So age retention still drops a prefix of the history.
    store.trim(start_ms - 60'000 + 1001);
    check_span(store.span(col_c), 1, 2, false);
    CHECK(offsets_of(store.read(col_c, 0, 100)) == range(1, 2));
}

TEST_CASE("sqlite store: stored_at never goes backwards across a restart", "[store][sqlite]") {
    // sqlite_store::last_stored_at_ starts at 0 on every open, so an event appended after a
    // restart with the clock stepped back gets an older stored_at than the events before it;
    // the age trim then drops it alone and sets trimmed_through past events it kept.
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    manual_clock clock;
    {
        sqlite_store store(path, retention{1000, 1000}, durability::normal, 1000, clock.fn());
        fill(store, clock, col_c, 3);   // stored at start_ms + 1…3
    }
    clock.now = start_ms - 60'000;
    sqlite_store store(path, retention{1000, 1000}, durability::normal, 1000, clock.fn());
    store.append({event("late", {col_c}, 400)});
    auto const records = store.read(col_c, 0, 100);
    REQUIRE(records.size() == 4);
    CHECK(records[3].stored_at_ms >= records[2].stored_at_ms);

    store.trim(start_ms - 60'000 + 1001);
    // Events 1…3 are younger than the cutoff by any account: nothing may be dropped before them.
    auto const s = store.span(col_c);
    auto const held = offsets_of(store.read(col_c, 0, 100));
    CHECK(held == range(1, 4));
    check_span(s, 1, 4, false);
}

TEST_CASE("sqlite store: read after an offset beyond the head is empty, also after a restart",
          "[store][sqlite]") {
    // read() binds `after` as a signed 64-bit integer: from the disk (nothing cached, as after a
    // restart), an `after` of 2^63 or more becomes negative and every event is returned.
    temp_dir dir;
    auto const path = dir.file("history.sqlite3");
    manual_clock clock;
    {
        sqlite_store store(path, retention{}, durability::normal, 1000, clock.fn());
        fill(store, clock, col_c, 3);
        CHECK(store.read(col_c, UINT64_MAX, 100).empty());
    }
    sqlite_store store(path, retention{}, durability::normal, 1000, clock.fn());
    CHECK(store.read(col_c, 3, 100).empty());
    CHECK(store.read(col_c, 1'000'000, 100).empty());
    CHECK(store.read(col_c, std::uint64_t{1} << 63, 100).empty());
    CHECK(store.read(col_c, UINT64_MAX, 100).empty());
}
