#pragma once
// What the webhook runners and the endpoint share: the settings, the history, where webhooks
// live, the blocking pool, the metrics, what this node knows of its deliveries, and who it is
// (the lease holder's name with a shared store).

#include "channels/channel_hub.hpp"
#include "server/config/server_config.hpp"
#include "server/telemetry/server_metrics.hpp"
#include "server/webhooks/position_saver.hpp"
#include "server/webhooks/webhook_board.hpp"
#include "store/webhook_store.hpp"

#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <string>

namespace kp::server {

struct webhook_context {
    server_config const& config;
    channels::channel_hub& hub;
    store::webhook_store& store;
    boost::asio::thread_pool& blocking;
    server_metrics& metrics;
    webhook_board& board;
    position_saver& saver;                             // acknowledged positions, saved in groups
    std::string node;                                  // this process, as lease holder
    std::function<void(std::string const& id)> changed;   // a webhook's stored definition changed: sync it now
};

}  // namespace kp::server
