// channels::publish_queue: the bounded ingest queue in front of the hub.

#include "channels/publish_queue.hpp"
#include "store/memory_store.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using kp::channels::channel_hub;
using kp::channels::message_batch;
using kp::channels::publish_queue;
using kp::channels::publish_result;

namespace {

nlohmann::ordered_json event_of(int n) {
    std::string const id = "r" + std::to_string(n);
    return nlohmann::ordered_json::parse(
        R"({"payload":{"timestamp":)" + std::to_string(1000 + n) +
        R"(,"action":"create","uri":"/buckets/b/collections/c/records/)" + id +
        R"(","resource_name":"record","bucket_id":"b","collection_id":"c"},)" +
        R"("impacted_objects":[{"new":{"id":")" + id + R"(","last_modified":)" + std::to_string(1000 + n) + "}}]}");
}

// A shard sink that holds the ingest thread until released, so that the queue fills up.
class gate {
public:
    void hold() {
        std::unique_lock lock(mutex_);
        held_ = true;
        changed_.notify_all();
        changed_.wait(lock, [this] { return open_; });
    }
    void wait_until_held() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return held_; });
    }
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool held_ = false;
    bool open_ = false;
};

void publish_ok_direct(channel_hub& hub, nlohmann::ordered_json const& body) {
    REQUIRE(hub.publish(body).outcome == publish_result::status::ok);
}

}  // namespace

TEST_CASE("publish_queue: a full queue refuses at once, and everything it took is published in order",
          "[publish_queue]") {
    kp::store::memory_store store({1000, 86'400'000});
    channel_hub hub(store, 10000);
    gate g;
    std::atomic<bool> first{true};
    hub.add_shard([&](message_batch) {
        if (first.exchange(false)) g.hold();
    });
    publish_queue queue(hub, 3, 256);

    std::mutex mutex;
    std::vector<std::uint64_t> offsets;   // of the collection channel, in completion order
    auto done = [&](publish_result r) {
        REQUIRE(r.outcome == publish_result::status::ok);
        std::lock_guard lock(mutex);
        offsets.push_back(r.published.front().offset);
    };
    REQUIRE(queue.submit(event_of(1), done));
    g.wait_until_held();   // the ingest thread is busy with event 1
    CHECK(queue.submit(event_of(2), done));
    CHECK(queue.submit(event_of(3), done));
    CHECK(queue.submit(event_of(4), done));
    CHECK_FALSE(queue.submit(event_of(5), done));   // capacity 3: refused, `done` not called
    g.open();
    queue.stop();   // publishes what is queued, then stops
    CHECK(offsets == std::vector<std::uint64_t>{1, 2, 3, 4});
    CHECK(store.span("/buckets/b/collections/c").last == 4);
    CHECK_FALSE(queue.submit(event_of(6), done));   // stopped
}

TEST_CASE("publish_queue: a bad body gets bad_request without holding back the others", "[publish_queue]") {
    kp::store::memory_store store({1000, 86'400'000});
    channel_hub hub(store, 10000);
    publish_queue queue(hub);
    std::promise<publish_result> bad, good;
    REQUIRE(queue.submit(nlohmann::ordered_json::parse(R"({"payload":{}})"),
                         [&](publish_result r) { bad.set_value(std::move(r)); }));
    REQUIRE(queue.submit(event_of(1), [&](publish_result r) { good.set_value(std::move(r)); }));
    auto b = bad.get_future();
    auto g = good.get_future();
    REQUIRE(b.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    REQUIRE(g.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    CHECK(b.get().outcome == publish_result::status::bad_request);
    CHECK(g.get().outcome == publish_result::status::ok);
}

TEST_CASE("publish_queue: direct mode publishes on the caller's thread before submit returns",
          "[publish_queue]") {
    kp::store::memory_store store({1000, 86'400'000});
    channel_hub hub(store, 10000);
    std::thread::id sink_thread;
    hub.add_shard([&](message_batch) { sink_thread = std::this_thread::get_id(); });
    publish_queue queue(hub, 1, 256, publish_queue::mode::direct);

    std::vector<std::uint64_t> offsets;
    std::thread::id done_thread;
    auto done = [&](publish_result r) {
        REQUIRE(r.outcome == publish_result::status::ok);
        offsets.push_back(r.published.front().offset);
        done_thread = std::this_thread::get_id();
    };
    // Capacity 1 does not limit direct mode: nothing ever waits in the queue.
    REQUIRE(queue.submit(event_of(1), done));
    REQUIRE(queue.submit(event_of(2), done));
    CHECK(offsets == std::vector<std::uint64_t>{1, 2});
    CHECK(done_thread == std::this_thread::get_id());
    CHECK(sink_thread == std::this_thread::get_id());   // the batch was handed to the shard sink here

    std::promise<publish_result> bad;
    REQUIRE(queue.submit(nlohmann::ordered_json::parse(R"({"payload":{}})"),
                         [&](publish_result r) { bad.set_value(std::move(r)); }));
    CHECK(bad.get_future().get().outcome == publish_result::status::bad_request);

    queue.stop();
    CHECK_FALSE(queue.submit(event_of(3), done));   // stopped: refused, `done` not called
    CHECK(offsets.size() == 2);
    CHECK(store.span("/buckets/b/collections/c").last == 2);
}

TEST_CASE("publish_queue: while a shard is behind, publishing waits, then refuses beyond capacity, then resumes",
          "[publish_queue]") {
    kp::store::memory_store store({1000, 86'400'000});
    channel_hub hub(store, 10000);
    std::atomic<std::size_t> batches{0};
    auto const shard = hub.add_shard([&](message_batch) { ++batches; });   // delivers nothing yet
    publish_queue queue(hub, 2, 256, publish_queue::mode::direct);

    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::uint64_t> offsets;
    auto done = [&](publish_result r) {
        REQUIRE(r.outcome == publish_result::status::ok);
        std::lock_guard lock(mutex);
        offsets.push_back(r.published.front().offset);
        changed.notify_all();
    };
    int n = 0;
    // Up to the limit, publishing is direct and immediate.
    while (!hub.behind()) REQUIRE(queue.submit(event_of(++n), done));
    CHECK(n == static_cast<int>(channel_hub::max_pending_batches) + 1);
    CHECK(offsets.size() == static_cast<std::size_t>(n));

    // Behind: the next ones wait (nothing is published), and the queue's capacity still holds.
    int accepted = 0;
    while (accepted < 10 && queue.submit(event_of(n + accepted + 1), done)) ++accepted;
    // The queue holds 2. Before it saw the shard behind, the ingest thread may already have
    // taken one group off the queue (at most the queue's 2), and holds it: 2 to 4 accepted.
    CHECK(accepted >= 2);
    CHECK(accepted <= 4);
    hub.held_back().wait(0);   // until the ingest thread waits for the shard
    CHECK(hub.held_back().load() == 1);
    {
        std::lock_guard lock(mutex);
        CHECK(offsets.size() == static_cast<std::size_t>(n));   // held back
    }
    CHECK(store.span("/buckets/b/collections/c").last == static_cast<std::uint64_t>(n));

    // The shard catches up: what waited is published, in order.
    for (std::size_t i = 0; i < batches.load(); ++i) hub.delivered(shard);
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, std::chrono::seconds(5),
                                 [&] { return offsets.size() == static_cast<std::size_t>(n + accepted); }));
    }
    for (std::size_t i = 0; i < offsets.size(); ++i) CHECK(offsets[i] == i + 1);
    queue.stop();
}

TEST_CASE("publish_queue: stop() while the shards are behind publishes what waits at once", "[publish_queue]") {
    kp::store::memory_store store({1000, 86'400'000});
    channel_hub hub(store, 10000);
    hub.add_shard([](message_batch) {});   // never delivers
    publish_queue queue(hub, 8, 256);

    std::mutex mutex;
    std::vector<std::uint64_t> offsets;
    auto done = [&](publish_result r) {
        REQUIRE(r.outcome == publish_result::status::ok);
        std::lock_guard lock(mutex);
        offsets.push_back(r.published.front().offset);
    };
    // Direct publishing through the hub until the shard is behind.
    int n = 0;
    while (!hub.behind()) publish_ok_direct(hub, event_of(++n));
    REQUIRE(queue.submit(event_of(++n), done));
    REQUIRE(queue.submit(event_of(++n), done));
    hub.held_back().wait(0);   // the ingest thread waits for the shard
    queue.stop();              // wakes it: it publishes, then ends
    CHECK(hub.held_back().load() == 0);
    CHECK(hub.behind());
    CHECK(offsets == std::vector<std::uint64_t>{static_cast<std::uint64_t>(n - 1), static_cast<std::uint64_t>(n)});
    CHECK(store.span("/buckets/b/collections/c").last == static_cast<std::uint64_t>(n));
}
