#include "store/store_factory.hpp"

#include "store/memory_store.hpp"

#include <stdexcept>

namespace kp::store {

namespace {
constexpr std::string_view sqlite_scheme = "sqlite:";
}

bool store_factory::supported(std::string const& url) {
    return url == "memory" || (url.starts_with(sqlite_scheme) && url.size() > sqlite_scheme.size());
}

std::unique_ptr<history_store> store_factory::open(std::string const& url, store_options const& options) {
    if (url == "memory") return std::make_unique<memory_store>(options.limits);
    if (supported(url))
        return std::make_unique<sqlite_store>(url.substr(sqlite_scheme.size()), options.limits, options.mode,
                                              options.cache_size);
    throw std::invalid_argument("--store " + url + ": unsupported store (this build offers: memory, sqlite:PATH)");
}

}  // namespace kp::store
