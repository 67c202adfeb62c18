// push/: broadcast ids and versions, the registry that follows channels (start-up from the
// history, live publishes, debounce), what one client is told, and the per-shard fan-out of
// one shared frame (docs/firefox.md).

#include "push/broadcast_change.hpp"
#include "push/broadcast_registry.hpp"
#include "push/broadcast_spec.hpp"
#include "push/broadcast_table.hpp"
#include "push/broadcast_version.hpp"
#include "push/client_broadcasts.hpp"

#include "store/memory_store.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

using kp::push::broadcast_change;
using kp::push::broadcast_change_ptr;
using kp::push::broadcast_registry;
using kp::push::broadcast_spec;
using kp::push::broadcast_table;
using kp::push::broadcast_version;
using kp::push::client_broadcasts;
using kp::push::frame_ptr;
using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

std::string const monitor = "remote-settings/monitor_changes";
std::string const addons = "remote-settings/addons";

std::vector<broadcast_spec> two_specs() {
    return {{monitor, "/buckets/main"}, {addons, "/buckets/blocklists/collections/addons"}};
}

kp::channels::message_ptr message(std::string channel, std::uint64_t offset, std::int64_t timestamp) {
    return kp::channels::message::from_record(std::move(channel), offset, timestamp, R"({"payload":{}})");
}

// A registry whose changes are recorded instead of posted to shards.
struct recorded_registry {
    broadcast_registry registry;
    std::vector<broadcast_change_ptr> changes;
    explicit recorded_registry(broadcast_registry::clock::duration debounce = 0s, std::vector<broadcast_spec> specs = two_specs())
        : registry(std::move(specs), debounce) {
        registry.add_sink([this](broadcast_change_ptr const& c) { changes.push_back(c); });
    }
};

// The JSON text of a server's WebSocket text frame (unmasked; a 2- or 4-byte header here).
json frame_json(frame_ptr const& f) {
    REQUIRE(f->size() >= 2);
    CHECK(static_cast<unsigned char>((*f)[0]) == 0x81);   // FIN, text
    std::size_t const header = (static_cast<unsigned char>((*f)[1]) & 0x7f) == 126 ? 4 : 2;
    return json::parse(f->substr(header));
}

struct fake_subscriber : kp::push::broadcast_subscriber {
    client_broadcasts state;
    std::vector<frame_ptr> frames;
    explicit fake_subscriber(std::size_t count) : state(count) {}
    client_broadcasts& broadcasts() override { return state; }
    void send_broadcast(frame_ptr const& frame) override { frames.push_back(frame); }
};

}  // namespace

TEST_CASE("a version is the Kinto timestamp in double quotes, as Remote Settings publishes it", "[push]") {
    CHECK(broadcast_version(1717000000456) == "\"1717000000456\"");
    CHECK(broadcast_version(0) == "\"0\"");
    // In a JSON frame it reads "\"1717000000456\"", the form Firefox's Remote Settings expects.
    CHECK(json(broadcast_version(1717000000456)).dump() == R"("\"1717000000456\"")");
}

TEST_CASE("broadcast ids follow Megaphone's BROADCASTER/NAME rule and channels are checked", "[push]") {
    CHECK(broadcast_spec::valid_id("remote-settings/monitor_changes"));
    CHECK(broadcast_spec::valid_id(std::string(64, 'a') + "/" + std::string(128, 'b')));
    CHECK_FALSE(broadcast_spec::valid_id(std::string(65, 'a') + "/b"));
    CHECK_FALSE(broadcast_spec::valid_id("a/" + std::string(129, 'b')));
    CHECK_FALSE(broadcast_spec::valid_id("errors"));   // the name of the errors map: never an id
    CHECK_FALSE(broadcast_spec::valid_id("a/b/c"));
    CHECK_FALSE(broadcast_spec::valid_id("/b"));
    CHECK_FALSE(broadcast_spec::valid_id("a/"));
    auto ok = broadcast_spec::parse("rs/monitor_changes=/buckets/main");
    REQUIRE(std::holds_alternative<broadcast_spec>(ok));
    CHECK(std::get<broadcast_spec>(ok) == broadcast_spec{"rs/monitor_changes", "/buckets/main"});
    CHECK(std::holds_alternative<std::string>(broadcast_spec::parse("rs/x=/bucket/main")));
    CHECK(std::holds_alternative<std::string>(broadcast_spec::parse("rs/x=")));
}

TEST_CASE("a change's frame names every changed broadcast; a part gets its own frame", "[push]") {
    broadcast_change const change({{0, monitor, "\"10\""}, {3, addons, "\"11\""}});
    CHECK(change.mask() == 0b1001);
    CHECK(frame_json(change.frame()) ==
          json::parse(R"({"messageType":"broadcast","broadcasts":{"remote-settings/monitor_changes":"\"10\"","remote-settings/addons":"\"11\""}})"));
    CHECK(change.frame_for(change.mask()) == change.frame());   // the same shared string
    CHECK(frame_json(change.frame_for(0b1000)) ==
          json::parse(R"({"messageType":"broadcast","broadcasts":{"remote-settings/addons":"\"11\""}})"));
}

TEST_CASE("the registry starts from the latest event of each channel in the history", "[push]") {
    kp::store::memory_store store({1000, 86'400'000});
    store.append({{"k1", {{"/buckets/main", 100, "{}"}, {"/buckets", 100, "{}"}}}});
    store.append({{"k2", {{"/buckets/main", 250, "{}"}}}});
    store.append({{"k3", {{"/buckets/main", 200, "{}"}}}});   // the latest by offset, not the largest
    recorded_registry r;
    r.registry.load(store);
    CHECK(r.registry.versions() == std::vector<std::string>{"\"200\"", ""});   // addons: no event yet
    CHECK(r.changes.empty());   // loading announces nothing
    CHECK(r.registry.index_of(addons) == 1u);
    CHECK_FALSE(r.registry.index_of("remote-settings/unknown"));
}

TEST_CASE("a published transaction changes the versions of the broadcasts following its channels", "[push]") {
    auto const t0 = broadcast_registry::clock::time_point{} + 1h;
    recorded_registry r;
    // Two events of /buckets/main in one transaction: one change, with the last one's timestamp.
    CHECK_FALSE(r.registry.observe({message("/buckets/main", 1, 500), message("/buckets/other", 1, 501),
                                    message("/buckets/main", 2, 502)},
                                   t0));
    REQUIRE(r.changes.size() == 1);
    REQUIRE(r.changes[0]->entries().size() == 1);
    CHECK(r.changes[0]->entries()[0].id == monitor);
    CHECK(r.changes[0]->entries()[0].version == "\"502\"");
    CHECK(r.registry.versions()[0] == "\"502\"");
    // Channels no broadcast follows change nothing.
    r.registry.observe({message("/buckets/other", 2, 600)}, t0);
    CHECK(r.changes.size() == 1);
    // One transaction touching both broadcasts: one change naming both.
    r.registry.observe({message("/buckets/main", 3, 700), message("/buckets/blocklists/collections/addons", 1, 700)}, t0);
    REQUIRE(r.changes.size() == 2);
    CHECK(r.changes[1]->mask() == 0b11);
}

TEST_CASE("the debounce publishes at once, then at most once per interval, and never loses the last version",
          "[push]") {
    auto const t0 = broadcast_registry::clock::time_point{} + 1h;
    recorded_registry r(300s);
    CHECK_FALSE(r.registry.observe({message("/buckets/main", 1, 100)}, t0));   // first change: at once
    REQUIRE(r.changes.size() == 1);
    // Two more within the interval: held back, due when the interval ends.
    CHECK(r.registry.observe({message("/buckets/main", 2, 200)}, t0 + 10s) == t0 + 300s);
    CHECK(r.registry.observe({message("/buckets/main", 3, 300)}, t0 + 20s) == t0 + 300s);
    CHECK(r.changes.size() == 1);
    CHECK(r.registry.versions()[0] == "\"100\"");   // clients are still told the published one
    CHECK(r.registry.flush(t0 + 299s) == t0 + 300s);   // not yet
    CHECK(r.changes.size() == 1);
    CHECK_FALSE(r.registry.flush(t0 + 300s));
    REQUIRE(r.changes.size() == 2);
    CHECK(r.changes[1]->entries()[0].version == "\"300\"");   // coalesced: only the last
    CHECK_FALSE(r.registry.flush(t0 + 900s));   // nothing pending
    CHECK(r.changes.size() == 2);
    // After a quiet interval a change goes out at once again.
    CHECK_FALSE(r.registry.observe({message("/buckets/main", 4, 400)}, t0 + 900s));
    CHECK(r.changes.size() == 3);
    // Each broadcast has its own interval.
    CHECK_FALSE(r.registry.observe({message("/buckets/blocklists/collections/addons", 1, 450)}, t0 + 901s));
    CHECK(r.changes.size() == 4);
}

TEST_CASE("a client is told only the versions that differ from its own, and unknown ids as errors", "[push]") {
    recorded_registry r;
    r.registry.observe({message("/buckets/main", 1, 1717000000456)}, {});
    client_broadcasts client(2);
    auto const answer = client.subscribe(json{{monitor, "\"1\""}, {addons, "\"0\""}, {"x/unknown", "v"}}, r.registry);
    CHECK(answer == json::parse(R"({"remote-settings/monitor_changes":"\"1717000000456\"",
                                    "errors":{"x/unknown":"Broadcast not found"}})"));
    CHECK(client.subscribed() == 0b11);
    CHECK(client.held(0) == "\"1717000000456\"");
    CHECK(client.held(1) == "\"0\"");   // no event yet: the client keeps its own

    client_broadcasts current(2);
    CHECK(current.subscribe(json{{monitor, "\"1717000000456\""}}, r.registry).empty());
    CHECK(current.subscribed() == 0b01);

    // What each still needs of a change.
    broadcast_change const change({{0, monitor, "\"1717000000999\""}, {1, addons, "\"0\""}});
    CHECK(client.stale_in(change) == 0b01);    // holds addons "0" already
    CHECK(current.stale_in(change) == 0b01);   // does not listen to addons
    client.sent(change, 0b01);
    CHECK(client.stale_in(change) == 0);       // never twice
}

TEST_CASE("one shard's table shares one frame among the clients that need the same part", "[push]") {
    recorded_registry r;
    std::vector<std::unique_ptr<fake_subscriber>> subs;
    broadcast_table table;
    for (int i = 0; i < 3; ++i) {
        subs.push_back(std::make_unique<fake_subscriber>(2));
        subs.back()->state.subscribe(json{{monitor, "\"0\""}, {addons, "\"0\""}}, r.registry);
        table.add(subs.back().get());
    }
    auto only_monitor = std::make_unique<fake_subscriber>(2);
    only_monitor->state.subscribe(json{{monitor, "\"0\""}}, r.registry);
    table.add(only_monitor.get());
    CHECK(table.size() == 4);

    broadcast_change const change({{0, monitor, "\"5\""}, {1, addons, "\"6\""}});
    CHECK(table.deliver(change) == 4);
    for (auto const& s : subs) {
        REQUIRE(s->frames.size() == 1);
        CHECK(s->frames[0] == change.frame());   // the very same string: serialized once
    }
    REQUIRE(only_monitor->frames.size() == 1);
    CHECK(frame_json(only_monitor->frames[0]) ==
          json::parse(R"({"messageType":"broadcast","broadcasts":{"remote-settings/monitor_changes":"\"5\""}})"));
    // Delivered again (a duplicate post): nobody is sent anything twice.
    CHECK(table.deliver(change) == 0);
    table.remove(only_monitor.get());
    CHECK(table.size() == 3);
}
