// Thread-level tests of the parts that cross threads (docs/architecture.md, Concurrency):
// publishers on several threads, shards on their own threads, the ingest queue. (The replay
// race of a subscription: tests/unit/session/replay_race_test.cpp.) They check
// results here; run under ThreadSanitizer (make test-sanitizers: tag [concurrency]) they
// also check for data races.

#include "channels/channel_hub.hpp"
#include "channels/message.hpp"
#include "channels/publish_queue.hpp"
#include "tests/unit/support/concurrency_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using kp::channels::channel_hub;
using kp::channels::message_batch;
using kp::channels::publish_queue;
using kp::channels::publish_result;
using kp::channels::since_position;

using namespace kp::testing;


TEST_CASE("hub: publishers on four threads, two shard threads: each shard gets every channel's offsets once, in order",
          "[concurrency][hub]") {
    bool const sqlite = GENERATE(false, true);
    CAPTURE(sqlite);
    store_under_test under(sqlite);
    channel_hub hub(*under.store, 10000);
    constexpr int shards = 2;
    std::vector<std::unique_ptr<fake_shard>> threads;
    std::vector<received> logs(shards);
    for (int s = 0; s < shards; ++s) {
        threads.push_back(std::make_unique<fake_shard>());
        hub.add_shard([&, s](message_batch batch) {
            threads[s]->post([&, s, batch] {
                for (auto const& m : *batch) logs[s].offsets[m->channel].push_back(m->offset);
            });
        });
    }

    constexpr int publishers = 4;
    constexpr int per_publisher = 150;
    std::atomic<int> failures{0};
    std::atomic<bool> publishing{true};
    std::vector<std::thread> workers;
    for (int p = 0; p < publishers; ++p) {
        workers.emplace_back([&, p] {
            for (int i = 0; i < per_publisher; ++i) {
                int const n = p * per_publisher + i;
                if (hub.publish(record_event(n % collections, n)).outcome != publish_result::status::ok) ++failures;
            }
        });
    }
    // Meanwhile, subscriptions come and go and plan their start, from another thread.
    std::thread subscriber([&] {
        while (publishing.load()) {
            for (int c = 0; c < collections; ++c) {
                hub.subscribed(collection(c));
                auto const plan = hub.plan_from(collection(c), since_position{hub.history().epoch(), 0});
                if (plan.replay) (void)hub.read(collection(c), plan.replay_after, 16);
                hub.unsubscribed(collection(c));
            }
        }
    });
    for (auto& w : workers) w.join();
    publishing = false;
    subscriber.join();
    for (int s = 0; s < shards; ++s) threads[s]->run_and_wait([] {});

    CHECK(failures == 0);
    int const total = publishers * per_publisher;
    for (int s = 0; s < shards; ++s) {
        CHECK(logs[s].in_order());
        std::size_t sum = 0;
        for (int c = 0; c < collections; ++c) sum += logs[s].offsets[collection(c)].size();
        CHECK(sum == static_cast<std::size_t>(total));
        CHECK(logs[s].offsets["/buckets"].size() == static_cast<std::size_t>(total));
    }
}

TEST_CASE("publish queue: four submitting threads, every request answered once, offsets distinct and contiguous",
          "[concurrency][publish_queue]") {
    kp::store::memory_store store(kp::store::retention{100000, 86'400'000});
    channel_hub hub(store, 10000);
    std::mutex mutex;
    std::vector<std::uint64_t> offsets;
    std::atomic<int> answered{0};
    std::atomic<int> refused{0};
    {
        publish_queue queue(hub, 4096, 64);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 250; ++i) {
                    bool const taken = queue.submit(record_event(0, t * 250 + i), [&](publish_result r) {
                        std::lock_guard lock(mutex);
                        if (r.outcome == publish_result::status::ok) offsets.push_back(r.published.front().offset);
                        ++answered;
                    });
                    if (!taken) ++refused;
                }
            });
        }
        for (auto& t : threads) t.join();
        queue.stop();
    }
    CHECK(refused == 0);
    CHECK(answered == 1000);
    std::sort(offsets.begin(), offsets.end());
    REQUIRE(offsets.size() == 1000);
    for (std::size_t i = 0; i < offsets.size(); ++i) CHECK(offsets[i] == i + 1);
}

TEST_CASE("message: shards asking for its SSE data line at once get one line, built once and kept", "[concurrency]") {
    for (int round = 0; round < 50; ++round) {
        auto m = kp::channels::message::from_record("/buckets/b", 7, 11, R"({"payload":{"n":1}})");
        std::atomic<bool> go{false};
        std::vector<std::shared_ptr<std::string const>> seen(4);
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < seen.size(); ++i) {
            threads.emplace_back([&, i] {
                while (!go.load()) std::this_thread::yield();
                seen[i] = m->sse_data(m);
            });
        }
        go.store(true);
        for (auto& t : threads) t.join();
        for (auto const& s : seen) {
            REQUIRE(s.get() == seen[0].get());
            REQUIRE(*s == "data: " + std::string(m->frame()) + "\n");
        }
    }
}

TEST_CASE("message: the compressed frame is built once while four shard threads ask for it", "[concurrency][deflate]") {
    std::string body = R"({"payload":{"action":"update"},"impacted_objects":[)";
    for (int i = 0; i < 40; ++i) body += R"({"new":{"id":"r)" + std::to_string(i) + R"(","last_modified":1717000000456}},)";
    body.back() = ']';
    body += '}';
    for (int round = 0; round < 20; ++round) {
        auto const m = kp::channels::message::from_record("/buckets/b/collections/c", 1, 1717000000456, body);
        std::vector<std::string const*> seen(4);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { seen[static_cast<std::size_t>(t)] = &m->deflated(); });
        for (auto& th : threads) th.join();
        REQUIRE_FALSE(seen[0]->empty());
        for (auto const* s : seen) CHECK(s == seen[0]);   // one string, the same for every thread
    }
}
