#pragma once
// Builds the history store a `--store` URL names: `memory`, `sqlite:PATH` or
// `redis://HOST:PORT/DB` (`rediss://` for TLS).

#include "store/cluster_subscribers.hpp"
#include "store/history_store.hpp"
#include "store/redis_store.hpp"
#include "store/sqlite_store.hpp"
#include "store/webhook_store.hpp"

#include <memory>
#include <optional>
#include <string>

namespace kp::store {

struct store_options {
    retention limits;
    durability mode = durability::full;
    std::size_t cache_size = 500;   // sqlite, redis: recent events per channel kept in memory
    redis_options redis;
};

class store_factory {
public:
    // Throws std::invalid_argument when the URL names no store this build offers, and
    // store_error (naming the file or the server) when the store cannot be opened.
    static std::unique_ptr<history_store> open(std::string const& url, store_options const& options);
    // The webhook store beside `history`, which open() built from the same `url` and `options`
    // (the store itself, not a wrapper around it: redis shares its link): memory, the same
    // SQLite file, or the same Redis. Throws store_error when the file cannot be opened, and
    // std::invalid_argument when `history` is not what `url` names.
    static std::unique_ptr<webhook_store> open_webhooks(history_store& history, std::string const& url,
                                                        store_options const& options);
    // Subscriber counts across nodes: only with a redis `history` (as open() built it), else null.
    static std::unique_ptr<cluster_subscribers> open_cluster_subscribers(history_store& history);
    // Nothing when `url` names a store this build offers, else why not (for configuration checks).
    static std::optional<std::string> refusal(std::string const& url);
};

}  // namespace kp::store
