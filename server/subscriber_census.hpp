#pragma once
// With a shared store (Redis): every 2 seconds this node reports its subscribers per channel
// (store::cluster_subscribers, kept 6 seconds, so a dead node stops counting), and
// GET /v1/channels sums the live nodes' reports (server_context::cluster_subscriber_totals).

#include "channels/channel_hub.hpp"
#include "store/cluster_subscribers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kp::server {

class subscriber_census {
public:
    static constexpr std::chrono::milliseconds period{2000};
    static constexpr std::chrono::milliseconds ttl{6000};

    subscriber_census(std::unique_ptr<store::cluster_subscribers> shared, channels::channel_hub& hub,
                      boost::asio::io_context& control, boost::asio::thread_pool& blocking);

    void start();
    void stop() { stopped_ = true; timer_.cancel(); }
    // Every node's subscribers of each channel, in order (blocking: the pool calls it).
    std::vector<std::uint64_t> totals(std::vector<std::string> const& channels);

private:
    void schedule();
    void report();

    std::unique_ptr<store::cluster_subscribers> shared_;
    channels::channel_hub& hub_;
    boost::asio::thread_pool& blocking_;
    boost::asio::steady_timer timer_;
    std::string node_;
    std::atomic<bool> stopped_{false};
    std::atomic<bool> reporting_{false};
};

}  // namespace kp::server
