// cli::position_store: the --state file of `kinto-push tail` (atomic replacement, reload,
// corrupt files) and cli::backoff.

#include "clients/cli/backoff.hpp"
#include "clients/cli/position_store.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>

namespace fs = std::filesystem;
using kp::cli::backoff;
using kp::cli::position;
using kp::cli::position_store;

namespace {

// A fresh directory, removed at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "kp-cli-state-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_file(fs::path const& p, std::string const& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

std::string read_file(fs::path const& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

position_store::positions load_ok(position_store const& store) {
    auto loaded = store.load();
    if (auto const* e = std::get_if<std::string>(&loaded)) FAIL(*e);
    return std::get<position_store::positions>(loaded);
}

std::string load_error(position_store const& store) {
    auto loaded = store.load();
    REQUIRE(std::holds_alternative<std::string>(loaded));
    return std::get<std::string>(loaded);
}

}  // namespace

TEST_CASE("position store: a missing or empty file holds no positions") {
    temp_dir dir;
    position_store store((dir.path / "state.json").string());
    CHECK(load_ok(store).empty());
    write_file(dir.path / "state.json", "");
    CHECK(load_ok(store).empty());
    write_file(dir.path / "state.json", " \n");
    CHECK(load_ok(store).empty());
}

TEST_CASE("position store: save then load gives the same positions") {
    temp_dir dir;
    position_store store((dir.path / "state.json").string());
    position_store::positions all = {
        {"/buckets/blog/collections/articles", position{"9f2c61d0", 42, 1717000000456}},
        {"/buckets/blog", position{"9f2c61d0", 7, std::nullopt}},
    };
    REQUIRE_FALSE(store.save(all));
    CHECK(load_ok(store) == all);

    all["/buckets/blog"].offset = 8;
    all["/buckets/blog"].timestamp = 1717000000999;
    REQUIRE_FALSE(store.save(all));
    CHECK(load_ok(store) == all);

    // What the docs show: {channel: {epoch, offset, timestamp}}.
    std::string text = read_file(dir.path / "state.json");
    CHECK(text.find("\"/buckets/blog/collections/articles\"") != std::string::npos);
    CHECK(text.find("\"epoch\": \"9f2c61d0\"") != std::string::npos);
    CHECK(text.find("\"offset\": 42") != std::string::npos);
    CHECK(text.find("\"timestamp\": 1717000000456") != std::string::npos);
}

TEST_CASE("position store: the file is replaced whole, with no temporary file left behind") {
    temp_dir dir;
    auto file = dir.path / "state.json";
    position_store store(file.string());
    REQUIRE_FALSE(store.save({{"/buckets", position{"e1", 1, 10}}}));
    struct stat before {};
    REQUIRE(::stat(file.c_str(), &before) == 0);
    REQUIRE_FALSE(store.save({{"/buckets", position{"e1", 2, 20}}}));
    struct stat after {};
    REQUIRE(::stat(file.c_str(), &after) == 0);
    // rename() over the old file: a new inode, never the old one rewritten in place.
    CHECK(before.st_ino != after.st_ino);
    std::size_t entries = 0;
    for (auto const& e : fs::directory_iterator(dir.path)) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);
}

TEST_CASE("position store: an existing file keeps its mode") {
    temp_dir dir;
    auto file = dir.path / "state.json";
    write_file(file, "{}");
    REQUIRE(::chmod(file.c_str(), 0640) == 0);
    position_store store(file.string());
    REQUIRE_FALSE(store.save({{"/buckets", position{"e1", 1, 10}}}));
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
}

TEST_CASE("position store: a failed save leaves the old file intact") {
    temp_dir dir;
    auto file = dir.path / "state.json";
    position_store store(file.string());
    REQUIRE_FALSE(store.save({{"/buckets", position{"e1", 1, 10}}}));
    std::string old = read_file(file);

    position_store nowhere((dir.path / "missing-dir" / "state.json").string());
    auto error = nowhere.save({{"/buckets", position{"e1", 2, 20}}});
    REQUIRE(error);
    CHECK_THAT(*error, Catch::Contains("missing-dir"));

    if (::geteuid() != 0) {   // root writes to read-only directories
        REQUIRE(::chmod(dir.path.c_str(), 0500) == 0);
        CHECK(store.save({{"/buckets", position{"e1", 2, 20}}}));
        REQUIRE(::chmod(dir.path.c_str(), 0700) == 0);
    }
    CHECK(read_file(file) == old);
}

TEST_CASE("position store: corrupt files are refused with a message naming the file") {
    temp_dir dir;
    auto file = dir.path / "state.json";
    position_store store(file.string());
    for (char const* bad : {
             "{\"/buckets\": {\"epoch\": \"e1\", \"offset\": 3",                     // torn
             "not json",
             "[]",
             "{\"/buckets\": 3}",
             "{\"/buckets\": {\"offset\": 3}}",                                     // no epoch
             "{\"/buckets\": {\"epoch\": \"\", \"offset\": 3}}",
             "{\"/buckets\": {\"epoch\": 5, \"offset\": 3}}",
             "{\"/buckets\": {\"epoch\": \"e1\"}}",                                  // no offset
             "{\"/buckets\": {\"epoch\": \"e1\", \"offset\": -1}}",
             "{\"/buckets\": {\"epoch\": \"e1\", \"offset\": \"3\"}}",
             "{\"/buckets\": {\"epoch\": \"e1\", \"offset\": 3, \"timestamp\": \"x\"}}",
         }) {
        INFO(bad);
        write_file(file, bad);
        auto error = load_error(store);
        CHECK_THAT(error, Catch::Contains(file.string()));
        CHECK_THAT(error, Catch::Contains("delete it"));
    }
}

TEST_CASE("position store: a null or absent timestamp is unknown") {
    temp_dir dir;
    auto file = dir.path / "state.json";
    write_file(file, R"({"/buckets/a": {"epoch": "e1", "offset": 3, "timestamp": null},
                         "/buckets/b": {"epoch": "e1", "offset": 4}})");
    auto loaded = load_ok(position_store(file.string()));
    REQUIRE(loaded.size() == 2);
    CHECK(loaded["/buckets/a"] == position{"e1", 3, std::nullopt});
    CHECK(loaded["/buckets/b"] == position{"e1", 4, std::nullopt});
}

TEST_CASE("position store: an unreadable path is an error, not an empty state") {
    temp_dir dir;
    fs::create_directory(dir.path / "a-directory");
    auto error = load_error(position_store((dir.path / "a-directory").string()));
    CHECK_THAT(error, Catch::Contains("a-directory"));
}

TEST_CASE("backoff: exponential ceilings with full jitter, capped, reset") {
    backoff b(std::chrono::milliseconds(250), std::chrono::milliseconds(30'000));
    std::int64_t expected[] = {250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (auto ceiling : expected) {
        CHECK(b.ceiling().count() == ceiling);
        auto d = b.next();
        CHECK(d.count() >= 0);
        CHECK(d.count() <= ceiling);
    }
    for (int i = 0; i < 100; ++i) CHECK(b.next().count() <= 30000);
    b.reset();
    CHECK(b.ceiling().count() == 250);
    CHECK(b.failures() == 0);

    // Full jitter: the delays spread over the whole range, not around the ceiling.
    backoff spread(std::chrono::milliseconds(1000), std::chrono::milliseconds(1000));
    bool low = false, high = false;
    for (int i = 0; i < 200; ++i) {
        auto d = spread.next().count();
        low = low || d < 300;
        high = high || d > 700;
    }
    CHECK(low);
    CHECK(high);
}
