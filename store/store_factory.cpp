#include "store/store_factory.hpp"

#include "store/memory_store.hpp"

#include <stdexcept>

namespace kp::store {

std::unique_ptr<history_store> store_factory::open(std::string const& url, retention limits) {
    if (url == "memory") return std::make_unique<memory_store>(limits);
    throw std::invalid_argument("--store " + url + ": unsupported store (this build offers: memory)");
}

}  // namespace kp::store
