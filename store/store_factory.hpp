#pragma once
// Builds the history store a `--store` URL names: `memory` or `sqlite:PATH`.

#include "store/history_store.hpp"
#include "store/sqlite_store.hpp"

#include <memory>
#include <string>

namespace kp::store {

struct store_options {
    retention limits;
    durability mode = durability::full;
    std::size_t cache_size = 500;   // sqlite: recent events per channel kept in memory
};

class store_factory {
public:
    // Throws std::invalid_argument when the URL names no store this build offers, and
    // store_error (naming the file) when the store cannot be opened.
    static std::unique_ptr<history_store> open(std::string const& url, store_options const& options);
    // True when `url` names a store this build offers (for configuration checks).
    static bool supported(std::string const& url);
};

}  // namespace kp::store
