#pragma once
// The Autopush broadcasts of this server (--broadcast): the registry, one broadcast table
// per shard, the hub observer that feeds the registry, and the debounce timer.

#include "channels/channel_hub.hpp"
#include "push/broadcast_registry.hpp"
#include "push/broadcast_table.hpp"
#include "server/shard.hpp"
#include "store/history_store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace kp::server {

class broadcast_service {
public:
    // Reads the versions from `history`, registers with `hub` and every shard. The timer runs
    // on `control` (the main thread). Construct before serving starts.
    broadcast_service(std::vector<push::broadcast_spec> specs, std::chrono::seconds debounce,
                      store::history_store& history, channels::channel_hub& hub, boost::asio::io_context& control,
                      std::vector<std::unique_ptr<shard>> const& shards);

    push::broadcast_registry& registry() { return registry_; }
    // Shard `index`'s table: use it only on that shard's thread.
    push::broadcast_table& table(std::size_t index) { return *tables_[index]; }

private:
    // Control thread only.
    void arm(push::broadcast_registry::clock::time_point due);

    push::broadcast_registry registry_;
    std::vector<std::unique_ptr<push::broadcast_table>> tables_;
    boost::asio::io_context& control_;
    boost::asio::steady_timer timer_;
    std::optional<push::broadcast_registry::clock::time_point> armed_;
};

}  // namespace kp::server
