#pragma once
// One event-loop thread: an io_context, the sessions it runs and their subscriber table.
// Sessions touch only their own shard, so nothing here needs a lock except the counters.

#include "channels/subscriber_table.hpp"
#include "server/closeable.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <thread>
#include <unordered_set>

namespace kp::server {

class shard {
public:
    explicit shard(std::size_t index);
    ~shard();
    shard(shard const&) = delete;
    shard& operator=(shard const&) = delete;

    boost::asio::io_context& context() { return context_; }
    std::size_t index() const { return index_; }

    // Shard thread only (or any thread once the loop has stopped): a session must end on its
    // shard, so a callback run elsewhere must not hold its last reference (debug builds check).
    channels::subscriber_table& subscribers() { return subscribers_; }
    void add_session(closeable* session);
    void remove_session(closeable* session);
    // Asks every session to end (posts to the shard thread).
    void shutdown_sessions();
    // Tells every session the shared history was lost (posts to the shard thread).
    void history_lost();

    std::size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }

    // Runs the loop on its own thread; every `sweep` it visits each session (closeable::tick):
    // one timer per shard serves every connection's keep-alive, close deadline and Kinto
    // rechecks (--kinto-recheck).
    void start(std::chrono::milliseconds sweep);
    std::chrono::milliseconds sweep() const { return sweep_; }
    void stop();   // stops the loop and joins the thread

private:
    void schedule_sweep();
    bool on_own_thread() const;

    std::size_t index_;
    // Declared before the io_context: handlers destroyed with the context still find them.
    channels::subscriber_table subscribers_;
    std::unordered_set<closeable*> sessions_;
    std::atomic<std::size_t> session_count_{0};
    boost::asio::io_context context_{1};
    std::chrono::milliseconds sweep_{1000};
    boost::asio::steady_timer sweep_timer_{context_};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
};

}  // namespace kp::server
