#pragma once
// Builds the history store a `--store` URL names.

#include "store/history_store.hpp"

#include <memory>
#include <string>

namespace kp::store {

class store_factory {
public:
    // Throws std::invalid_argument naming the URL when it is not a store this build offers.
    static std::unique_ptr<history_store> open(std::string const& url, retention limits);
};

}  // namespace kp::store
