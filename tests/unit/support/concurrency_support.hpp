#pragma once
// What the thread-level tests share (label `concurrency`, run under ThreadSanitizer): a fake
// shard thread, the stores under test, and record events.

#include "store/memory_store.hpp"
#include "store/sqlite_store.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace kp::testing {

inline constexpr int collections = 3;

inline std::string collection(int c) {
    return "/buckets/b/collections/c" + std::to_string(c);
}

inline nlohmann::ordered_json record_event(int c, int n) {
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
        // Notified under the lock: a poster never touches the shard after a task it posted
        // (perhaps the last before the shard is destroyed) has run.
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
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


}  // namespace kp::testing
