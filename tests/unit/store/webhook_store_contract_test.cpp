// The webhook_store contract (store/webhook_store.hpp, PROTOCOL.md section 7), one set of
// behaviour tests run against every implementation: memory_webhook_store,
// sqlite_webhook_store (in a temp dir, beside the sqlite history of the same file) and
// redis_webhook_store (on a redis_store's link to its own redis-server). The stores that keep
// their data (sqlite, redis) are also reopened and must give it back; the leases of the shared
// store are tested in redis_webhook_leases_test.cpp.

#include "store/memory_webhook_store.hpp"
#include "store/redis_store.hpp"
#include "store/redis_webhook_store.hpp"
#include "store/sqlite_store.hpp"
#include "store/sqlite_webhook_store.hpp"
#include "store/store_error.hpp"
#include "store/store_factory.hpp"

#include "tests/unit/store/store_test_servers.hpp"
#include "tests/unit/store/store_test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using kp::store::stored_webhook;
using kp::store::webhook_position;
using kp::store::webhook_store;

namespace {

using store_test::redis_server;
using store_test::temp_dir;

struct memory_backend {
    static constexpr bool durable = false;
    std::unique_ptr<webhook_store> webhooks = std::make_unique<kp::store::memory_webhook_store>();
    webhook_store& store() { return *webhooks; }
    void reopen() {}
};

// The history first (it holds the file's lock), then the webhooks on the same file.
struct sqlite_backend {
    static constexpr bool durable = true;
    temp_dir dir;
    std::string path = (dir.path() / "history.sqlite3").string();
    std::unique_ptr<kp::store::sqlite_store> history;
    std::unique_ptr<webhook_store> webhooks;
    sqlite_backend() { reopen(); }
    webhook_store& store() { return *webhooks; }
    void reopen() {
        webhooks.reset();
        history.reset();
        history = std::make_unique<kp::store::sqlite_store>(path, kp::store::retention{}, kp::store::durability::full,
                                                            100);
        webhooks = std::make_unique<kp::store::sqlite_webhook_store>(path, kp::store::durability::full);
    }
};

struct redis_backend {
    static constexpr bool durable = true;
    redis_server server;
    std::unique_ptr<kp::store::redis_store> history;
    std::unique_ptr<webhook_store> webhooks;
    redis_backend() { reopen(); }
    webhook_store& store() { return *webhooks; }
    // Another node (or this one restarted) on the same Redis.
    void reopen() {
        webhooks.reset();
        history.reset();
        kp::store::redis_endpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = server.port();
        history = std::make_unique<kp::store::redis_store>(endpoint, kp::store::retention{}, 100);
        webhooks = std::make_unique<kp::store::redis_webhook_store>(*history);
    }
};

webhook_position at(std::string channel, std::uint64_t offset, std::int64_t timestamp = 0,
                    std::string epoch = "e1") {
    return {std::move(channel), std::move(epoch), offset, timestamp};
}

stored_webhook hook(std::string id, std::vector<webhook_position> positions = {}) {
    return {id, R"({"url":"https://example.com/)" + id + R"(","channels":["/buckets/b"]})", std::move(positions)};
}

std::vector<std::string> ids_of(std::vector<stored_webhook> const& all) {
    std::vector<std::string> out;
    for (auto const& w : all) out.push_back(w.id);
    return out;
}

}  // namespace

#define WEBHOOK_BACKENDS memory_backend, sqlite_backend, redis_backend

TEMPLATE_TEST_CASE("webhook store: a new store holds no webhook", "[webhook_store]", WEBHOOK_BACKENDS) {
    TestType backend;
    auto& store = backend.store();
    CHECK(store.load_all().empty());
    CHECK_FALSE(store.load("missing").has_value());
    CHECK_FALSE(store.update_definition("missing", "{}"));
    CHECK_FALSE(store.save_positions("missing", {at("/buckets/b", 3)}, std::nullopt));
    CHECK_FALSE(store.load("missing").has_value());   // positions of nothing are not a webhook
    CHECK_FALSE(store.remove("missing"));
    CHECK_NOTHROW(store.forget_positions("missing", {"/buckets/b"}));
}

TEMPLATE_TEST_CASE("webhook store: create, then load gives it back; an id is created once", "[webhook_store]",
                   WEBHOOK_BACKENDS) {
    TestType backend;
    auto& store = backend.store();
    auto const first = hook("wh-b", {at("/buckets/z", 7, 1700), at("/buckets/a", 0)});
    REQUIRE(store.create(first));
    auto loaded = store.load("wh-b");
    REQUIRE(loaded.has_value());
    CHECK(loaded->definition == first.definition);
    // Positions come back ordered by channel.
    CHECK(loaded->positions == std::vector<webhook_position>{at("/buckets/a", 0), at("/buckets/z", 7, 1700)});

    // A second create of the id changes nothing.
    CHECK_FALSE(store.create(hook("wh-b", {at("/buckets/q", 1)})));
    auto again = store.load("wh-b");
    REQUIRE(again.has_value());
    CHECK(*again == *loaded);

    REQUIRE(store.create(hook("wh-c")));
    REQUIRE(store.create(hook("wh-a", {at("/buckets/b", 2, 5)})));
    auto all = store.load_all();
    CHECK(ids_of(all) == std::vector<std::string>{"wh-a", "wh-b", "wh-c"});
    CHECK(all[0].positions == std::vector<webhook_position>{at("/buckets/b", 2, 5)});
    CHECK(all[1] == *loaded);
    CHECK(all[2].positions.empty());
}

TEMPLATE_TEST_CASE("webhook store: update_definition replaces the definition only", "[webhook_store]",
                   WEBHOOK_BACKENDS) {
    TestType backend;
    auto& store = backend.store();
    REQUIRE(store.create(hook("wh", {at("/buckets/b", 4)})));
    CHECK(store.update_definition("wh", R"({"url":"https://example.com/new"})"));
    auto loaded = store.load("wh");
    REQUIRE(loaded.has_value());
    CHECK(loaded->definition == R"({"url":"https://example.com/new"})");
    CHECK(loaded->positions == std::vector<webhook_position>{at("/buckets/b", 4)});
}

TEMPLATE_TEST_CASE("webhook store: save_positions replaces the channels given, others untouched", "[webhook_store]",
                   WEBHOOK_BACKENDS) {
    TestType backend;
    auto& store = backend.store();
    REQUIRE(store.create(hook("wh", {at("/buckets/a", 1, 10), at("/buckets/b", 2, 20)})));
    // Single-node stores hold every lease, so a holder changes nothing there.
    std::optional<std::string> const holder =
        store.shared() ? std::nullopt : std::optional<std::string>("node-a");
    CHECK(store.save_positions("wh", {at("/buckets/b", 9, 90, "e2"), at("/buckets/c", 1, 5)}, holder));
    auto loaded = store.load("wh");
    REQUIRE(loaded.has_value());
    CHECK(loaded->positions ==
          std::vector<webhook_position>{at("/buckets/a", 1, 10), at("/buckets/b", 9, 90, "e2"), at("/buckets/c", 1, 5)});
    // Large offsets and timestamps keep their value.
    CHECK(store.save_positions("wh", {at("/buckets/a", 9'007'199'254'740'993ULL, 1'700'000'000'123)}, std::nullopt));
    CHECK(store.load("wh")->positions.front() == at("/buckets/a", 9'007'199'254'740'993ULL, 1'700'000'000'123));
}

TEMPLATE_TEST_CASE("webhook store: a group of saves is answered in order, a missing webhook writing nothing",
                   "[webhook_store]", WEBHOOK_BACKENDS) {
    TestType backend;
    auto& store = backend.store();
    REQUIRE(store.create(hook("wh1", {at("/buckets/a", 1)})));
    REQUIRE(store.create(hook("wh2", {at("/buckets/b", 2)})));
    auto const kept = store.save_positions_group({{"wh1", {at("/buckets/a", 5, 50)}, std::nullopt},
                                                  {"gone", {at("/buckets/a", 7)}, std::nullopt},
                                                  {"wh2", {at("/buckets/b", 6, 60)}, std::nullopt},
                                                  {"wh1", {at("/buckets/c", 1, 9)}, std::nullopt}});
    CHECK(kept == std::vector<bool>{true, false, true, true});
    CHECK(store.load("wh1")->positions == std::vector<webhook_position>{at("/buckets/a", 5, 50), at("/buckets/c", 1, 9)});
    CHECK(store.load("wh2")->positions == std::vector<webhook_position>{at("/buckets/b", 6, 60)});
    CHECK_FALSE(store.load("gone").has_value());
}

TEMPLATE_TEST_CASE("webhook store: forget_positions drops the channels named", "[webhook_store]", WEBHOOK_BACKENDS) {
    TestType backend;
    auto& store = backend.store();
    REQUIRE(store.create(hook("wh", {at("/buckets/a", 1), at("/buckets/b", 2), at("/buckets/c", 3)})));
    store.forget_positions("wh", {"/buckets/a", "/buckets/c", "/buckets/never"});
    CHECK(store.load("wh")->positions == std::vector<webhook_position>{at("/buckets/b", 2)});
    store.forget_positions("wh", {});
    CHECK(store.load("wh")->positions.size() == 1);
}

TEMPLATE_TEST_CASE("webhook store: remove forgets the definition and the positions", "[webhook_store]",
                   WEBHOOK_BACKENDS) {
    TestType backend;
    auto& store = backend.store();
    REQUIRE(store.create(hook("wh", {at("/buckets/a", 1)})));
    REQUIRE(store.create(hook("other", {at("/buckets/a", 5)})));
    CHECK(store.remove("wh"));
    CHECK_FALSE(store.load("wh").has_value());
    CHECK_FALSE(store.remove("wh"));
    // A late save (a delivery that finished after the DELETE) writes nothing.
    CHECK_FALSE(store.save_positions("wh", {at("/buckets/a", 2)}, std::nullopt));
    CHECK_FALSE(store.load("wh").has_value());
    // The id again: a new webhook, without the old one's positions.
    REQUIRE(store.create(hook("wh")));
    CHECK(store.load("wh")->positions.empty());
    CHECK(ids_of(store.load_all()) == std::vector<std::string>{"other", "wh"});
    CHECK(store.load("other")->positions == std::vector<webhook_position>{at("/buckets/a", 5)});
}

TEMPLATE_TEST_CASE("webhook store: single-node stores always hold the lease", "[webhook_store]", memory_backend,
                   sqlite_backend) {
    TestType backend;
    auto& store = backend.store();
    REQUIRE(store.create(hook("wh")));
    CHECK_FALSE(store.shared());
    CHECK(store.hold_lease("wh", "node-a", std::chrono::milliseconds(100)));
    CHECK(store.hold_lease("wh", "node-b", std::chrono::milliseconds(100)));
    store.release_lease("wh", "node-a");
    CHECK(store.save_positions("wh", {at("/buckets/a", 1)}, std::string("node-a")));
}

TEMPLATE_TEST_CASE("webhook store: webhooks and positions survive a reopen", "[webhook_store]", sqlite_backend,
                   redis_backend) {
    TestType backend;
    REQUIRE(backend.store().create(hook("wh-2", {at("/buckets/a", 1, 11)})));
    REQUIRE(backend.store().create(hook("wh-1")));
    REQUIRE(backend.store().save_positions("wh-1", {at("/buckets/b", 8, 80)}, std::nullopt));
    REQUIRE(backend.store().update_definition("wh-2", R"({"v":2})"));
    auto const before = backend.store().load_all();
    backend.reopen();
    auto const after = backend.store().load_all();
    CHECK(after == before);
    REQUIRE(after.size() == 2);
    CHECK(after[0].positions == std::vector<webhook_position>{at("/buckets/b", 8, 80)});
    CHECK(after[1].definition == R"({"v":2})");
}

TEST_CASE("sqlite webhook store: a history file from before gains the tables, its history kept", "[webhook_store]") {
    temp_dir dir;
    auto const path = (dir.path() / "history.sqlite3").string();
    kp::store::retention const limits{};
    {
        kp::store::sqlite_store history(path, limits, kp::store::durability::normal, 100);
        history.append({store_test::event("k1", {store_test::col_c}, 100)});
    }
    std::string epoch;
    {
        kp::store::sqlite_store history(path, limits, kp::store::durability::normal, 100);
        epoch = history.epoch();
        kp::store::sqlite_webhook_store webhooks(path, kp::store::durability::normal);
        CHECK(webhooks.load_all().empty());
        REQUIRE(webhooks.create(hook("wh", {at(store_test::col_c, 1, 100)})));
    }
    // The history opens the file with the new tables, and the webhook store finds them.
    kp::store::sqlite_store history(path, limits, kp::store::durability::normal, 100);
    CHECK(history.epoch() == epoch);
    CHECK(store_test::offsets_of(history.read(store_test::col_c, 0, 10)) == std::vector<std::uint64_t>{1});
    kp::store::sqlite_webhook_store webhooks(path, kp::store::durability::normal);
    REQUIRE(webhooks.load("wh").has_value());
    CHECK(webhooks.load("wh")->positions == std::vector<webhook_position>{at(store_test::col_c, 1, 100)});
}

TEST_CASE("sqlite webhook store: a file that is not a database is refused, naming it", "[webhook_store]") {
    temp_dir dir;
    auto const path = (dir.path() / "not-a-db").string();
    {
        std::ofstream out(path);
        out << "this is not a SQLite database, only text long enough to be read as a header";
    }
    try {
        kp::store::sqlite_webhook_store webhooks(path, kp::store::durability::normal);
        FAIL("opened a file that is not a database");
    } catch (kp::store::store_error const& e) {
        CHECK(std::string(e.what()).starts_with(path));
    }
}

TEST_CASE("store factory: the webhook store beside each history", "[webhook_store]") {
    kp::store::store_options const options{};
    SECTION("memory") {
        auto history = kp::store::store_factory::open("memory", options);
        auto webhooks = kp::store::store_factory::open_webhooks(*history, "memory", options);
        CHECK(dynamic_cast<kp::store::memory_webhook_store*>(webhooks.get()) != nullptr);
        CHECK(kp::store::store_factory::open_cluster_subscribers(*history) == nullptr);
    }
    SECTION("sqlite: the same file") {
        temp_dir dir;
        auto const url = "sqlite:" + (dir.path() / "h.sqlite3").string();
        auto history = kp::store::store_factory::open(url, options);
        auto webhooks = kp::store::store_factory::open_webhooks(*history, url, options);
        REQUIRE(dynamic_cast<kp::store::sqlite_webhook_store*>(webhooks.get()) != nullptr);
        REQUIRE(webhooks->create(hook("wh")));
        CHECK(kp::store::store_factory::open_cluster_subscribers(*history) == nullptr);
    }
    SECTION("redis: refused when the history given is not the redis store") {
        auto history = kp::store::store_factory::open("memory", options);
        CHECK_THROWS_AS(kp::store::store_factory::open_webhooks(*history, "redis://127.0.0.1:1/0", options),
                        std::invalid_argument);
    }
}

TEST_CASE("redis webhook store: positions are written as \"epoch offset timestamp\"", "[webhook_store]") {
    using kp::store::redis_webhook_store;
    CHECK(redis_webhook_store::encode_position(at("/c", 12, 1700, "ab12")) == "ab12 12 1700");
    CHECK(redis_webhook_store::decode_position("/c", "ab12 12 1700") == at("/c", 12, 1700, "ab12"));
    CHECK(redis_webhook_store::decode_position("/c", "ab12 0 0") == at("/c", 0, 0, "ab12"));
    for (std::string bad : {"", "ab12", "ab12 12", "ab12 x 1", "ab12 12 ", "ab12 -1 5", "ab12 1 5x"}) {
        INFO(bad);
        CHECK_FALSE(redis_webhook_store::decode_position("/c", bad).has_value());
    }
}
