// What only a shared (Redis) store does: webhook leases between nodes (one node delivers a
// webhook at a time; a node that lost its lease cannot move a position), and subscriber counts
// summed over the live nodes. Two nodes are two redis_stores on one redis-server of the test's
// own; expiry is Redis's, so the tests wait past short TTLs (bounded waits).

#include "store/redis_cluster_subscribers.hpp"
#include "store/redis_store.hpp"
#include "store/redis_webhook_store.hpp"
#include "store/store_factory.hpp"

#include "tests/unit/store/store_test_servers.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using kp::store::webhook_position;
using namespace std::chrono_literals;

namespace {

// One node: its own redis_store (its own link) on the shared server.
struct node {
    std::unique_ptr<kp::store::redis_store> redis;
    std::unique_ptr<kp::store::webhook_store> webhooks;
    std::unique_ptr<kp::store::cluster_subscribers> counts;
    explicit node(std::uint16_t port) {
        kp::store::redis_endpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = port;
        redis = std::make_unique<kp::store::redis_store>(endpoint, kp::store::retention{}, 100);
        webhooks = kp::store::store_factory::open_webhooks(*redis, "redis://127.0.0.1:" + std::to_string(port), {});
        counts = kp::store::store_factory::open_cluster_subscribers(*redis);
    }
};

struct two_nodes {
    store_test::redis_server server;
    node a{server.port()};
    node b{server.port()};
};

webhook_position at(std::string channel, std::uint64_t offset) { return {std::move(channel), "e1", offset, 0}; }

}  // namespace

TEST_CASE("redis webhook leases: one node at a time, taken over once expired", "[webhook_store]") {
    two_nodes nodes;
    auto& a = *nodes.a.webhooks;
    auto& b = *nodes.b.webhooks;
    CHECK(a.shared());
    REQUIRE(a.create({"wh", "{}", {at("/c", 0)}}));

    CHECK(a.hold_lease("wh", "node-a", 400ms));
    CHECK_FALSE(b.hold_lease("wh", "node-b", 400ms));
    CHECK(a.hold_lease("wh", "node-a", 400ms));   // renewed
    // Only the holder moves a position.
    CHECK(a.save_positions("wh", {at("/c", 3)}, std::string("node-a")));
    CHECK_FALSE(b.save_positions("wh", {at("/c", 9)}, std::string("node-b")));
    CHECK(b.load("wh")->positions == std::vector<webhook_position>{at("/c", 3)});
    // Releasing someone else's lease does nothing.
    b.release_lease("wh", "node-b");
    CHECK_FALSE(b.hold_lease("wh", "node-b", 400ms));

    // node-a stops renewing (it died): node-b takes over once the TTL passed.
    bool taken = false;
    auto const deadline = std::chrono::steady_clock::now() + 3s;
    while (!taken && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
        taken = b.hold_lease("wh", "node-b", 5000ms);
    }
    REQUIRE(taken);
    // The stale holder can neither move the position nor take the lease back, nor release it.
    CHECK_FALSE(a.save_positions("wh", {at("/c", 4)}, std::string("node-a")));
    CHECK_FALSE(a.hold_lease("wh", "node-a", 400ms));
    a.release_lease("wh", "node-a");
    CHECK(b.save_positions("wh", {at("/c", 5)}, std::string("node-b")));
    CHECK(a.load("wh")->positions == std::vector<webhook_position>{at("/c", 5)});

    // Released: free at once for the other node.
    b.release_lease("wh", "node-b");
    CHECK(a.hold_lease("wh", "node-a", 5000ms));
}

TEST_CASE("redis webhook leases: removing a webhook frees its lease", "[webhook_store]") {
    two_nodes nodes;
    auto& a = *nodes.a.webhooks;
    auto& b = *nodes.b.webhooks;
    REQUIRE(a.create({"wh", "{}", {}}));
    REQUIRE(a.hold_lease("wh", "node-a", 60'000ms));
    REQUIRE(b.remove("wh"));
    CHECK_FALSE(a.save_positions("wh", {at("/c", 1)}, std::string("node-a")));
    REQUIRE(b.create({"wh", "{}", {}}));
    CHECK(b.hold_lease("wh", "node-b", 60'000ms));
    CHECK_FALSE(a.save_positions("wh", {at("/c", 1)}, std::string("node-a")));
    CHECK(b.load("wh")->positions.empty());
}

TEST_CASE("redis cluster subscribers: totals sum the live nodes' reports", "[webhook_store]") {
    two_nodes nodes;
    REQUIRE(nodes.a.counts);
    REQUIRE(nodes.b.counts);
    auto& a = *nodes.a.counts;
    auto& b = *nodes.b.counts;
    CHECK(a.totals({"/c", "/d"}) == std::vector<std::uint64_t>{0, 0});
    CHECK(a.totals({}).empty());

    a.report("node-a", {{"/c", 2}, {"/d", 1}}, 60'000ms);
    b.report("node-b", {{"/c", 5}, {"/e", 7}}, 60'000ms);
    CHECK(a.totals({"/c", "/d", "/e", "/f"}) == std::vector<std::uint64_t>{7, 1, 7, 0});
    CHECK(b.totals({"/e", "/c"}) == std::vector<std::uint64_t>{7, 7});

    // A new report replaces the node's previous one (channels it no longer has drop out).
    a.report("node-a", {{"/c", 1}}, 60'000ms);
    CHECK(b.totals({"/c", "/d"}) == std::vector<std::uint64_t>{6, 0});
    a.report("node-a", {}, 60'000ms);
    CHECK(b.totals({"/c", "/d"}) == std::vector<std::uint64_t>{5, 0});

    // A node that stops reporting stops counting once its TTL passed.
    a.report("node-a", {{"/c", 10}}, 300ms);
    CHECK(b.totals({"/c"}) == std::vector<std::uint64_t>{15});
    std::vector<std::uint64_t> totals;
    auto const deadline = std::chrono::steady_clock::now() + 3s;
    do {
        std::this_thread::sleep_for(50ms);
        totals = b.totals({"/c"});
    } while (totals != std::vector<std::uint64_t>{5} && std::chrono::steady_clock::now() < deadline);
    CHECK(totals == std::vector<std::uint64_t>{5});
}

TEST_CASE("redis cluster subscribers: many channels asked at once", "[webhook_store]") {
    two_nodes nodes;
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    std::vector<std::string> channels;
    for (int i = 0; i < 1000; ++i) {
        channels.push_back("/buckets/b" + std::to_string(i));
        counts.emplace_back(channels.back(), static_cast<std::uint64_t>(i));
    }
    nodes.a.counts->report("node-a", counts, 60'000ms);
    nodes.b.counts->report("node-b", counts, 60'000ms);
    auto totals = nodes.a.counts->totals(channels);
    REQUIRE(totals.size() == channels.size());
    for (std::size_t i = 0; i < totals.size(); ++i) CHECK(totals[i] == 2 * i);
}
