// Thread-level tests of the parts that cross threads (docs/architecture.md, Concurrency):
// publishers on several threads, shards on their own threads, the ingest queue, and the
// replay race of a subscription that reads the history while publishing goes on. They check
// results here; run under ThreadSanitizer (make test-sanitizers: tag [concurrency]) they
// also check for data races.

#include "channels/channel_hub.hpp"
#include "channels/publish_queue.hpp"
#include "store/memory_store.hpp"
#include "store/sqlite_store.hpp"

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

namespace {

constexpr int collections = 3;

std::string collection(int c) {
    return "/buckets/b/collections/c" + std::to_string(c);
}

nlohmann::ordered_json record_event(int c, int n) {
    std::string const id = "r" + std::to_string(n);
    std::string const cid = "c" + std::to_string(c);
    return nlohmann::ordered_json::parse(
        R"({"payload":{"timestamp":)" + std::to_string(1000 + n) + R"(,"action":"create","uri":"/buckets/b/collections/)" +
        cid + "/records/" + id + R"(","resource_name":"record","bucket_id":"b","collection_id":")" + cid +
        R"("},"impacted_objects":[{"new":{"id":")" + id + R"(","last_modified":)" + std::to_string(1000 + n) + "}}]}");
}

// A shard: one thread running the tasks posted to it, in order (as an io_context would).
class fake_shard {
public:
    fake_shard() : thread_([this] { run(); }) {}
    ~fake_shard() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    void post(std::function<void()> task) {
        {
            std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        wake_.notify_all();
    }
    // Runs `task` on the shard and waits for it.
    void run_and_wait(std::function<void()> task) {
        std::promise<void> done;
        post([&] {
            task();
            done.set_value();
        });
        done.get_future().wait();
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
    }
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::thread thread_;
};

// Per channel, the offsets one shard received (touched on that shard's thread only).
struct received {
    std::map<std::string, std::vector<std::uint64_t>> offsets;
    bool in_order() const {
        for (auto const& [channel, list] : offsets)
            for (std::size_t i = 0; i < list.size(); ++i)
                if (list[i] != i + 1) return false;
        return true;
    }
};

struct store_under_test {
    std::filesystem::path dir;
    std::unique_ptr<kp::store::history_store> store;
    explicit store_under_test(bool sqlite) {
        kp::store::retention const limits{100000, 86'400'000};
        if (!sqlite) {
            store = std::make_unique<kp::store::memory_store>(limits);
            return;
        }
        dir = std::filesystem::temp_directory_path() / ("kp-concurrency-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(dir);
        // durability normal: no fsync per commit; the threads are what is tested here.
        store = std::make_unique<kp::store::sqlite_store>((dir / "h.sqlite3").string(), limits,
                                                          kp::store::durability::normal, 64);
    }
    ~store_under_test() {
        store.reset();
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

}  // namespace

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

// The subscription's side of the no-hole argument (docs/architecture.md): on its shard's
// thread, register, plan, read the history in pages up to the head, and take live batches
// above what was read; while another thread keeps publishing.
TEST_CASE("replay race: a resume that reads the history while publishing goes on gets each offset once, in order",
          "[concurrency][hub][replay]") {
    bool const sqlite = GENERATE(false, true);
    CAPTURE(sqlite);
    store_under_test under(sqlite);
    channel_hub hub(*under.store, 100000);
    fake_shard shard;
    std::string const channel = collection(0);

    // Shard state: touched on the shard's thread only.
    bool registered = false;
    bool replaying = false;
    std::uint64_t sent = 0;
    std::vector<std::uint64_t> got;
    auto take = [&](std::uint64_t offset) {
        if (offset <= sent) return;
        got.push_back(offset);
        sent = offset;
    };
    hub.add_shard([&](message_batch batch) {
        shard.post([&, batch] {
            if (!registered || replaying) return;
            for (auto const& m : *batch)
                if (m->channel == channel) take(m->offset);
        });
    });

    constexpr int total = 1200;
    std::promise<void> quarter;   // set once a quarter of the events are published
    auto quarter_published = quarter.get_future();
    std::thread publisher([&] {
        for (int n = 0; n < total; ++n) {
            hub.publish(record_event(0, n));
            if (n + 1 == total / 4) quarter.set_value();
        }
    });
    quarter_published.wait();
    shard.post([&] {
        registered = true;
        hub.subscribed(channel);
        auto const plan = hub.plan_from(channel, since_position{hub.history().epoch(), 0});
        REQUIRE(plan.recovered);
        sent = plan.replay_after;
        replaying = plan.replay;
        // Pages up to the head, each read on this thread (as pump_replay does from memory).
        while (replaying) {
            auto const page = hub.read(channel, sent, 64);
            std::uint64_t const before = sent;
            for (auto const& m : page) take(m->offset);
            if (page.size() < 64 && sent == before + page.size()) replaying = false;
        }
    });
    publisher.join();
    shard.run_and_wait([] {});

    REQUIRE(got.size() == static_cast<std::size_t>(total));
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == i + 1);
}
