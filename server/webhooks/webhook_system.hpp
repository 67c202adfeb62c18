#pragma once
// Everything webhooks need in one place, owned by the server: where they are stored
// (store/webhook_store: the history's SQLite file, Redis, or memory), this node's board of
// deliveries, the service that runs them on the shards, the operations behind
// /v1/webhooks, and their gauges on /metrics.

#include "server/webhooks/webhook_admin.hpp"
#include "server/webhooks/webhook_board.hpp"
#include "server/webhooks/webhook_context.hpp"
#include "server/webhooks/webhook_service.hpp"
#include "store/webhook_store.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <vector>

namespace kp::server {

class webhook_system {
public:
    webhook_system(server_config const& config, channels::channel_hub& hub, std::unique_ptr<store::webhook_store> store,
                   boost::asio::thread_pool& blocking, server_metrics& metrics,
                   std::vector<boost::asio::io_context*> const& loops, boost::asio::io_context& control);

    void start() { service_.start(); }
    void stop() { service_.stop(); }

    webhook_service& service() { return service_; }
    webhook_admin& admin() { return admin_; }

private:
    std::unique_ptr<store::webhook_store> store_;
    webhook_board board_;
    position_saver saver_;
    webhook_context context_;
    webhook_service service_;
    webhook_admin admin_;
};

}  // namespace kp::server
