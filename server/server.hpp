#pragma once
// The whole server: store, hub, shards, listener, and the shutdown sequence.

#include "auth/publisher_auth.hpp"
#include "channels/channel_hub.hpp"
#include "channels/publish_queue.hpp"
#include "server/broadcast_service.hpp"
#include "server/listener.hpp"
#include "server/http/router.hpp"
#include "server/config/server_config.hpp"
#include "server/server_context.hpp"
#include "server/telemetry/server_metrics.hpp"
#include "server/shard.hpp"
#include "server/subscriber_census.hpp"
#include "server/net/tls_context_provider.hpp"
#include "server/webhooks/webhook_system.hpp"
#include "store/history_store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <vector>

namespace kp::server {

class server {
public:
    // Opens the store and binds the address; throws with a message naming what failed.
    explicit server(server_config config);
    // The start-up checks that open nothing (subscriber authentication: --public-channels, the
    // JWT key file, --kinto-url; the TLS certificate and key), for --print-config: throws
    // std::exception with the message start-up would give.
    static void check(server_config const& config);
    ~server();

    // Serves until SIGTERM or SIGINT, then shuts down gracefully. Returns the exit code.
    int run();

private:
    void on_signal();
    void wait_for_sessions(std::chrono::steady_clock::time_point deadline);
    void schedule_trim();
    void wait_for_reload();
    void register_gauges();

    server_config config_;
    server_metrics metrics_;   // before the store, which reports to it
    std::unique_ptr<store::history_store> store_;
    channels::channel_hub hub_;
    auth::publisher_auth publishers_;
    channels::publish_queue ingest_;
    subscriber_access access_;
    admin_access admin_;   // after access_, whose JWT verifier it uses
    cors_policy cors_;
    boost::asio::thread_pool blocking_{2};
    server_context context_;
    router routes_;
    router metrics_routes_;
    boost::asio::io_context control_;   // main thread: accept, signals, timers
    // Destroyed before the hub and the store: sessions unsubscribe as they go.
    std::vector<std::unique_ptr<shard>> shards_;
    std::unique_ptr<listener> listener_;
    std::unique_ptr<listener> metrics_listener_;   // --metrics-listen
    std::unique_ptr<tls_context_provider> tls_;
    std::unique_ptr<broadcast_service> broadcasts_;   // --broadcast
    std::unique_ptr<webhook_system> webhooks_;
    std::unique_ptr<subscriber_census> census_;   // with a shared store (redis)
    boost::asio::signal_set signals_;
    boost::asio::signal_set reload_signal_;
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer trim_timer_;
};

}  // namespace kp::server
