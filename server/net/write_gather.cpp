#include "server/net/write_gather.hpp"

#include <vector>

namespace kp::server {

namespace {

// A shard's connections write on its thread only: the spares are per thread.
std::vector<std::unique_ptr<gather_array>>& spare_gathers() {
    thread_local std::vector<std::unique_ptr<gather_array>> spares;
    return spares;
}

}  // namespace

std::unique_ptr<gather_array> take_gather() {
    auto& spares = spare_gathers();
    if (spares.empty()) return std::make_unique<gather_array>();
    auto g = std::move(spares.back());
    spares.pop_back();
    return g;
}

void give_back(std::unique_ptr<gather_array> gather) {
    auto& spares = spare_gathers();
    if (gather && spares.size() < 4096) spares.push_back(std::move(gather));
}

}  // namespace kp::server
