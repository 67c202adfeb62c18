#include "server/broadcast_service.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace kp::server {

namespace asio = boost::asio;

broadcast_service::broadcast_service(std::vector<push::broadcast_spec> specs, std::chrono::seconds debounce,
                                     store::history_store& history, channels::channel_hub& hub,
                                     asio::io_context& control, std::vector<std::unique_ptr<shard>> const& shards)
    : registry_(std::move(specs), debounce), control_(control), timer_(control) {
    registry_.load(history);
    for (auto const& s : shards) {
        tables_.push_back(std::make_unique<push::broadcast_table>());
        auto* table = tables_.back().get();
        auto* where = s.get();
        registry_.add_sink([table, where](push::broadcast_change_ptr const& change) {
            asio::post(where->context(), [table, change] { table->deliver(*change); });
        });
    }
    hub.add_publish_observer([this](std::vector<channels::message_ptr> const& batch) {
        if (auto due = registry_.observe(batch, push::broadcast_registry::clock::now()))
            asio::post(control_, [this, at = *due] { arm(at); });
    });
    auto const versions = registry_.versions();
    for (std::size_t i = 0; i < versions.size(); ++i) {
        auto const& spec = registry_.specs()[i];
        spdlog::info("broadcast {} follows {} (version {})", spec.id, spec.channel,
                     versions[i].empty() ? "none yet" : versions[i]);
    }
}

void broadcast_service::arm(push::broadcast_registry::clock::time_point due) {
    if (armed_ && *armed_ <= due) return;   // an earlier flush is already scheduled
    armed_ = due;
    timer_.expires_at(due);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;   // re-armed earlier, or shutting down
        armed_.reset();
        if (auto next = registry_.flush(push::broadcast_registry::clock::now())) arm(*next);
    });
}

}  // namespace kp::server
