#include "store/store_factory.hpp"

#include "store/memory_store.hpp"
#include "store/memory_webhook_store.hpp"
#include "store/redis_cluster_subscribers.hpp"
#include "store/redis_endpoint.hpp"
#include "store/redis_webhook_store.hpp"
#include "store/sqlite_webhook_store.hpp"

#include <stdexcept>

namespace kp::store {

namespace {
constexpr std::string_view sqlite_scheme = "sqlite:";
constexpr char const* offered = "this build offers: memory, sqlite:PATH, redis://[:PASSWORD@]HOST[:PORT][/DB], rediss://…";

bool is_redis(std::string const& url) {
    return url.starts_with("redis://") || url.starts_with("rediss://");
}
}  // namespace

std::optional<std::string> store_factory::refusal(std::string const& url) {
    if (url == "memory" || (url.starts_with(sqlite_scheme) && url.size() > sqlite_scheme.size())) return std::nullopt;
    if (is_redis(url)) {
        auto parsed = redis_endpoint::parse(url);
        if (auto* why = std::get_if<std::string>(&parsed)) return "redis URL: " + *why;
        return std::nullopt;
    }
    return std::string("unsupported store (") + offered + ")";
}

std::unique_ptr<history_store> store_factory::open(std::string const& url, store_options const& options) {
    if (auto why = refusal(url)) throw std::invalid_argument("--store: " + *why);
    if (url == "memory") return std::make_unique<memory_store>(options.limits);
    if (is_redis(url))
        return std::make_unique<redis_store>(std::get<redis_endpoint>(redis_endpoint::parse(url)), options.limits,
                                             options.cache_size, options.redis);
    return std::make_unique<sqlite_store>(url.substr(sqlite_scheme.size()), options.limits, options.mode,
                                          options.cache_size);
}

std::unique_ptr<webhook_store> store_factory::open_webhooks(history_store& history, std::string const& url,
                                                           store_options const& options) {
    if (auto why = refusal(url)) throw std::invalid_argument("--store: " + *why);
    if (url == "memory") return std::make_unique<memory_webhook_store>();
    if (is_redis(url)) {
        auto* redis = dynamic_cast<redis_store*>(&history);
        if (!redis) throw std::invalid_argument("webhooks: the history of " + url + " is not a redis_store");
        return std::make_unique<redis_webhook_store>(*redis);
    }
    return std::make_unique<sqlite_webhook_store>(url.substr(sqlite_scheme.size()), options.mode);
}

std::unique_ptr<cluster_subscribers> store_factory::open_cluster_subscribers(history_store& history) {
    auto* redis = dynamic_cast<redis_store*>(&history);
    if (!redis) return nullptr;
    return std::make_unique<redis_cluster_subscribers>(*redis);
}

}  // namespace kp::store
