#pragma once
// Builds the history store a `--store` URL names: `memory`, `sqlite:PATH` or
// `redis://HOST:PORT/DB` (`rediss://` for TLS).

#include "store/history_store.hpp"
#include "store/redis_store.hpp"
#include "store/sqlite_store.hpp"

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
    // Nothing when `url` names a store this build offers, else why not (for configuration checks).
    static std::optional<std::string> refusal(std::string const& url);
};

}  // namespace kp::store
