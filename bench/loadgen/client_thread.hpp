#pragma once
// One thread of the load generator: an io_context run by one std::thread, holding its share of
// the subscriber connections and their statistics. The coordinator drives it by posting work
// (open, close, run_sync) and polls the atomic counters of its stats.

#include "bench/loadgen/http_base_url.hpp"
#include "bench/loadgen/loadgen_options.hpp"
#include "bench/loadgen/subscriber_connection.hpp"
#include "bench/loadgen/subscriber_stats.hpp"
#include "bench/loadgen/target_protocol.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace kp::loadgen {

class client_thread {
public:
    client_thread(target_protocol const& protocol, http_base_url const& url, transport_kind transport);
    ~client_thread();
    client_thread(client_thread const&) = delete;
    client_thread& operator=(client_thread const&) = delete;

    // Before open_all: the connections this thread will hold.
    void add(subscriber_connection::plan p);
    std::size_t size() const { return connections_.size(); }

    // Opens every connection, at most `in_flight` at once; progress in stats().opened/failed
    // (the caller zeroes them first, with run_sync).
    // resume: each reconnects from the position it had (kinto-push).
    void open_all(unsigned in_flight, bool resume);
    // Closes every open connection; progress in stats().closed (zeroed by the caller).
    void close_all();

    // Runs f(connections, stats) on the thread and waits for it (at most `timeout`); false on timeout.
    bool run_sync(std::function<void(std::vector<std::shared_ptr<subscriber_connection>>&, subscriber_stats&)> f,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

    subscriber_stats& stats() { return stats_; }

private:
    void open_next();

    target_protocol const& protocol_;
    http_base_url const& url_;
    transport_kind transport_;
    boost::asio::io_context io_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    subscriber_stats stats_;
    std::vector<std::shared_ptr<subscriber_connection>> connections_;
    std::size_t next_to_open_ = 0;
    unsigned opening_ = 0;
    unsigned in_flight_ = 1;
    bool resume_ = false;
    std::thread thread_;
};

}  // namespace kp::loadgen
