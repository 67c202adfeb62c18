#include "server/server.hpp"

#include "server/access/kinto_client.hpp"
#include "server/telemetry/instrumented_store.hpp"
#include "store/store_factory.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

namespace kp::server {

namespace asio = boost::asio;

namespace {

// How long shutdown waits for clients to complete the close handshake (a session gives up on
// a silent peer after 5 s).
constexpr std::chrono::seconds shutdown_grace{7};

std::size_t shard_count(std::size_t configured) {
    if (configured) return configured;
    return std::max(1u, std::thread::hardware_concurrency());
}

// subscriber_access's settings, from the server's: the one place that maps them.
access_options access_options_of(server_config const& config) {
    return {.public_channels = config.public_channels,
            .jwt_secret = config.jwt_secret,
            .jwt_public_key = config.jwt_public_key,
            .jwt_jwks_url = config.jwt_jwks_url,
            .jwt_jwks_refresh_min_s = config.jwt_jwks_refresh_min_s,
            .jwt_jwks_refresh_s = config.jwt_jwks_refresh_s,
            .jwt_audience = config.jwt_audience,
            .jwt_issuer = config.jwt_issuer,
            .kinto_url = config.kinto_url,
            .kinto_recheck_s = config.kinto_recheck_s};
}

store::store_options store_options_of(server_config const& config) {
    return {{config.history_size, config.history_ttl_s * 1000},
            config.durability == "normal" ? store::durability::normal : store::durability::full,
            config.history_cache,
            {config.redis_password, config.redis_tls_ca}};
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

void server::check(server_config const& config) {
    subscriber_access access(access_options_of(config),
                             [](std::string const& base_url) { return std::make_unique<kinto_client>(base_url); });
    if (config.tls_cert) {
        tls_context_provider tls(*config.tls_cert, *config.tls_key);
    }
}

server::server(server_config config)
    : config_(std::move(config)),
      store_(std::make_unique<instrumented_store>(
          store::store_factory::open(config_.store, store_options_of(config_)), metrics_)),
      hub_(*store_, config_.max_replay),
      publishers_(config_.publish_secret),
      ingest_(hub_, 1024, 256,
              store_->appends_in_memory() ? channels::publish_queue::mode::direct : channels::publish_queue::mode::grouped),
      access_(access_options_of(config_),
              [](std::string const& base_url) { return std::make_unique<kinto_client>(base_url); }),
      admin_(config_.admin_secret, access_),
      cors_(config_.cors_origins, config_.allowed_origins),
      context_{config_, hub_, publishers_, ingest_, access_, cors_, blocking_, nullptr, metrics_},
      routes_(context_),
      metrics_routes_(context_, router::scope::metrics_only),
      signals_(control_, SIGTERM, SIGINT),
      reload_signal_(control_, SIGHUP),
      timer_(control_),
      trim_timer_(control_) {
    context_.admin = &admin_;
    if (config_.tls_cert) {
        tls_ = std::make_unique<tls_context_provider>(*config_.tls_cert, *config_.tls_key);
        context_.tls = tls_.get();
    }
    config_.shards = shard_count(config_.shards);
    for (std::size_t i = 0; i < config_.shards; ++i) {
        shards_.push_back(std::make_unique<shard>(i));
        shard* s = shards_.back().get();
        auto& delivery = metrics_.delivery_seconds;
        hub_.add_shard([this, s, i, &delivery](channels::message_batch batch) {
            auto const stored = std::chrono::steady_clock::now();
            asio::post(s->context(), [this, s, i, &delivery, stored, batch = std::move(batch)] {
                s->subscribers().deliver(*batch);
                hub_.delivered(i);
                delivery.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - stored).count());
            });
        });
    }
    register_gauges();
    if (store_->announces_events()) {
        // A shared store (redis) announces every node's events: they reach the shards from
        // there; a lost history closes every WebSocket with 1001, so that clients resume,
        // learn of the new epoch and resync.
        store_->set_announcer([this](std::vector<store::event_record> const& transaction) {
            hub_.deliver_assigned(transaction);
        }, [this] {
            for (auto& s : shards_) s->history_lost();
        });
    }
    if (!config_.broadcasts.empty()) {
        broadcasts_ = std::make_unique<broadcast_service>(config_.broadcasts,
                                                          std::chrono::seconds(config_.broadcast_debounce_s), *store_,
                                                          hub_, control_, shards_);
        context_.broadcasts = broadcasts_.get();
    }
    // The webhook store and the cluster's subscriber counts share the measured store's file or
    // Redis link.
    auto& inner_store = static_cast<instrumented_store&>(*store_).inner();
    std::vector<asio::io_context*> loops;
    for (auto& s : shards_) loops.push_back(&s->context());
    webhooks_ = std::make_unique<webhook_system>(
        config_, hub_, store::store_factory::open_webhooks(inner_store, config_.store, store_options_of(config_)),
        blocking_, metrics_, loops, control_);
    context_.webhooks = &webhooks_->admin();
    if (auto shared = store::store_factory::open_cluster_subscribers(inner_store)) {
        census_ = std::make_unique<subscriber_census>(std::move(shared), hub_, control_, blocking_);
        context_.cluster_subscriber_totals = [this](std::vector<std::string> const& channels) {
            return census_->totals(channels);
        };
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(config_.listen_host, ec);
    if (ec) throw std::invalid_argument("--listen: '" + config_.listen_host + "' is not an IP address");
    try {
        listener_ = std::make_unique<listener>(control_, asio::ip::tcp::endpoint(address, config_.listen_port),
                                               shards_, context_, routes_);
    } catch (boost::system::system_error const& e) {
        throw std::runtime_error("--listen " + config_.listen_host + ":" + std::to_string(config_.listen_port) +
                                 ": " + e.code().message());
    }
    if (config_.metrics_host) {
        auto metrics_address = asio::ip::make_address(*config_.metrics_host, ec);
        if (ec) throw std::invalid_argument("--metrics-listen: '" + *config_.metrics_host + "' is not an IP address");
        try {
            metrics_listener_ = std::make_unique<listener>(
                control_, asio::ip::tcp::endpoint(metrics_address, config_.metrics_port), shards_, context_,
                metrics_routes_, false);
        } catch (boost::system::system_error const& e) {
            throw std::runtime_error("--metrics-listen " + *config_.metrics_host + ":" +
                                     std::to_string(config_.metrics_port) + ": " + e.code().message());
        }
    }
}

server::~server() {
    if (webhooks_) webhooks_->stop();
    store_->set_announcer({}, {});   // nothing reaches the shards once they are gone
    ingest_.stop();
    // A pending accept holds a socket made on a shard's io_context: close the acceptors and let
    // those operations end (aborted) while the shards still exist. (Left queued, they would be
    // destroyed with control_, after the shards' socket services: a use after free.)
    if (listener_) listener_->stop();
    if (metrics_listener_) metrics_listener_->stop();
    access_.stop_key_refresh();   // its timer lives on control_
    control_.restart();
    control_.poll();
    for (auto& s : shards_) s->stop();
    shards_.clear();
    blocking_.join();
}

int server::run() {
    if (!config_.publish_secret)
        spdlog::warn("no --publish-secret: publishing is accepted from loopback addresses only");
    if (access_.development_mode())
        spdlog::warn("no subscriber authentication configured: every channel is open (development mode)");
    else
        spdlog::info("subscriber authentication: {}", access_.describe());
    // The sweep visits every connection four times per heartbeat (keep-alive, close deadlines),
    // and with Kinto delegation four times per --kinto-recheck (each recheck in time).
    auto period_s = config_.heartbeat_s;
    if (access_.has_kinto()) period_s = std::min(period_s, config_.kinto_recheck_s);
    auto const sweep = std::max(std::chrono::milliseconds(100), std::chrono::milliseconds(period_s * 1000 / 4));
    for (auto& s : shards_) s->start(sweep);
    webhooks_->start();
    if (census_) census_->start();
    listener_->start();
    if (metrics_listener_) metrics_listener_->start();
    signals_.async_wait([this](boost::system::error_code ec, int) {
        if (!ec) on_signal();
    });
    schedule_trim();
    wait_for_reload();
    access_.start_key_refresh(control_.get_executor());
    if (metrics_listener_) {
        // Logged before the main address: whoever waits for "listening on" knows both then.
        auto where = metrics_listener_->local_endpoint();
        std::string name = where.address().to_string();
        if (where.address().is_v6()) name = "[" + name + "]";
        spdlog::info("metrics served on http://{}:{}/metrics only", name, where.port());
    }
    auto endpoint = listener_->local_endpoint();
    std::string host = endpoint.address().to_string();
    if (endpoint.address().is_v6()) host = "[" + host + "]";
    spdlog::info("kinto-push {} listening on {}://{}:{} ({} shards, store {}, epoch {})", KINTO_PUSH_VERSION,
                 tls_ ? "https" : "http", host, endpoint.port(), shards_.size(), store_->kind(), store_->epoch());
    control_.run();
    ingest_.stop();
    for (auto& s : shards_) s->stop();
    spdlog::info("kinto-push stopped");
    return 0;
}

void server::on_signal() {
    spdlog::info("shutting down: closing {} WebSocket connections with 1001",
                 context_.websocket_connections.load());
    context_.shutting_down.store(true);
    listener_->stop();
    if (metrics_listener_) metrics_listener_->stop();
    trim_timer_.cancel();
    reload_signal_.cancel();
    access_.stop_key_refresh();
    for (auto& s : shards_) s->shutdown_sessions();
    if (census_) census_->stop();
    webhooks_->stop();   // the leases go back: another node takes over at once
    // A second signal stops at once.
    signals_.async_wait([this](boost::system::error_code ec, int) {
        if (!ec) control_.stop();
    });
    wait_for_sessions(std::chrono::steady_clock::now() + shutdown_grace);
}

void server::wait_for_sessions(std::chrono::steady_clock::time_point deadline) {
    std::size_t open = 0;
    for (auto& s : shards_) open += s->session_count();
    if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
        if (open) spdlog::warn("shutdown: {} sessions still open after the grace period", open);
        signals_.cancel();
        control_.stop();
        return;
    }
    timer_.expires_after(std::chrono::milliseconds(20));
    timer_.async_wait([this, deadline](boost::system::error_code ec) {
        if (!ec) wait_for_sessions(deadline);
    });
}

void server::register_gauges() {
    auto& r = metrics_.registry();
    r.add_gauge_function("kinto_push_connections", "open WebSocket connections",
                         [this] { return static_cast<double>(context_.websocket_connections.load()); });
    r.add_gauge_function("kinto_push_subscriptions", "subscriptions held by open connections",
                         [this] { return static_cast<double>(hub_.subscription_counts().subscriptions); });
    r.add_gauge_function("kinto_push_channels", "channels with at least one subscriber",
                         [this] { return static_cast<double>(hub_.subscription_counts().channels); });
    r.add_gauge_function("kinto_push_publish_queue", "POST requests waiting for the ingest thread",
                         [this] { return static_cast<double>(ingest_.size()); });
}

void server::wait_for_reload() {
    reload_signal_.async_wait([this](boost::system::error_code ec, int) {
        if (ec) return;
        if (!tls_) {
            spdlog::info("SIGHUP: nothing to reload (no TLS configured)");
        } else if (auto error = tls_->reload(); error.empty()) {
            spdlog::info("SIGHUP: TLS certificate reloaded; new connections use it");
        } else {
            spdlog::error("SIGHUP: TLS certificate not reloaded, keeping the current one: {}", error);
        }
        wait_for_reload();
    });
}

void server::schedule_trim() {
    // Age retention runs off the hot path, often enough for short TTLs (count retention is
    // applied by the stores as they append).
    auto const interval = std::chrono::seconds(std::clamp<std::int64_t>(config_.history_ttl_s / 2, 1, 10));
    trim_timer_.expires_after(interval);
    trim_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        // The trim may wait on the disk: it runs on the blocking pool.
        boost::asio::post(blocking_, [this] { store_->trim(now_ms()); });
        schedule_trim();
    });
}

}  // namespace kp::server
