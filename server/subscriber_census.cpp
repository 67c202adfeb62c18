#include "server/subscriber_census.hpp"

#include "store/random_hex.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace kp::server {

subscriber_census::subscriber_census(std::unique_ptr<store::cluster_subscribers> shared, channels::channel_hub& hub,
                                     boost::asio::io_context& control, boost::asio::thread_pool& blocking)
    : shared_(std::move(shared)), hub_(hub), blocking_(blocking), timer_(control), node_("node-" + store::random_hex(8)) {}

void subscriber_census::start() {
    boost::asio::post(blocking_, [this] { report(); });
    schedule();
}

void subscriber_census::schedule() {
    timer_.expires_after(period);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_) return;
        if (!reporting_.exchange(true))
            boost::asio::post(blocking_, [this] {
                report();
                reporting_ = false;
            });
        schedule();
    });
}

void subscriber_census::report() {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (auto const& channel : hub_.subscribed_with_prefix(""))
        if (auto n = hub_.subscriber_count(channel)) counts.emplace_back(channel, n);
    try {
        shared_->report(node_, counts, ttl);
    } catch (std::exception const& e) {
        spdlog::debug("subscriber counts not reported: {}", e.what());
    }
}

std::vector<std::uint64_t> subscriber_census::totals(std::vector<std::string> const& channels) {
    return shared_->totals(channels);
}

}  // namespace kp::server
