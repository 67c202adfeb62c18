#include "server/webhooks/webhook_system.hpp"

#include "store/random_hex.hpp"

#include <chrono>

namespace kp::server {

webhook_system::webhook_system(server_config const& config, channels::channel_hub& hub,
                               std::unique_ptr<store::webhook_store> store, boost::asio::thread_pool& blocking,
                               server_metrics& metrics, std::vector<boost::asio::io_context*> const& loops,
                               boost::asio::io_context& control)
    : store_(std::move(store)),
      saver_(*store_, blocking),
      context_{config, hub, *store_, blocking, metrics, board_, saver_, "node-" + store::random_hex(8), {}},
      service_(context_, loops, control),
      admin_(context_, service_) {
    context_.changed = [this](std::string const& id) { service_.changed(id); };
    hub.add_publish_observer([this](std::vector<channels::message_ptr> const& batch) { service_.observe(batch); });

    auto& r = metrics.registry();
    r.add_gauge_collector("kinto_push_webhooks", "stored webhooks by status (active, retrying, disabled)", {"status"},
                          [this] {
                              auto const c = service_.counts();
                              return metrics::registry::labelled_values{{{"active"}, double(c.active)},
                                                                        {{"retrying"}, double(c.retrying)},
                                                                        {{"disabled"}, double(c.disabled)}};
                          });
    auto lags = [this](bool seconds) {
        auto const now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
        metrics::registry::labelled_values out;
        for (auto const& lag : board_.lags(now)) out.push_back({{lag.id}, seconds ? lag.seconds : double(lag.events)});
        return out;
    };
    r.add_gauge_collector("kinto_push_webhook_lag_events", "events not yet acknowledged, per webhook delivered by this node",
                          {"webhook"}, [lags] { return lags(false); });
    r.add_gauge_collector("kinto_push_webhook_lag_seconds",
                          "age of the oldest event not yet acknowledged (from its Kinto timestamp), per webhook delivered "
                          "by this node",
                          {"webhook"}, [lags] { return lags(true); });
}

}  // namespace kp::server
