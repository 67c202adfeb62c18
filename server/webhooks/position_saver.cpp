#include "server/webhooks/position_saver.hpp"

#include "server/telemetry/log_event.hpp"

#include <boost/asio/post.hpp>

namespace kp::server {

void position_saver::save(store::webhook_store::position_save save, done then) {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(save), std::move(then));
    if (draining_) return;   // the running drain takes it in its next group
    draining_ = true;
    boost::asio::post(blocking_, [this] { drain(); });
}

void position_saver::drain() {
    for (;;) {
        std::vector<std::pair<store::webhook_store::position_save, done>> group;
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty()) {
                draining_ = false;
                return;
            }
            group.swap(queue_);
        }
        std::vector<store::webhook_store::position_save> saves;
        saves.reserve(group.size());
        for (auto& [save, then] : group) saves.push_back(std::move(save));
        std::vector<bool> kept(group.size(), false);
        try {
            kept = store_.save_positions_group(saves);
        } catch (std::exception const& e) {
            log_event(spdlog::level::warn, "webhook.save_failed", {{"positions", saves.size()}, {"error", e.what()}});
        }
        for (std::size_t i = 0; i < group.size(); ++i)
            if (group[i].second) group[i].second(i < kept.size() && kept[i]);
    }
}

}  // namespace kp::server
