#include "store/memory_webhook_store.hpp"

namespace kp::store {

stored_webhook memory_webhook_store::copy(std::string const& id, entry const& e) {
    stored_webhook out{id, e.definition, {}};
    out.positions.reserve(e.positions.size());
    for (auto const& [channel, position] : e.positions) out.positions.push_back(position);
    return out;
}

std::vector<stored_webhook> memory_webhook_store::load_all() {
    std::lock_guard lock(mutex_);
    std::vector<stored_webhook> out;
    out.reserve(webhooks_.size());
    for (auto const& [id, e] : webhooks_) out.push_back(copy(id, e));
    return out;
}

std::optional<stored_webhook> memory_webhook_store::load(std::string const& id) {
    std::lock_guard lock(mutex_);
    auto it = webhooks_.find(id);
    if (it == webhooks_.end()) return std::nullopt;
    return copy(id, it->second);
}

bool memory_webhook_store::create(stored_webhook const& webhook) {
    entry e{webhook.definition, {}};
    for (auto const& position : webhook.positions) e.positions[position.channel] = position;
    std::lock_guard lock(mutex_);
    return webhooks_.emplace(webhook.id, std::move(e)).second;
}

bool memory_webhook_store::update_definition(std::string const& id, std::string const& definition) {
    std::lock_guard lock(mutex_);
    auto it = webhooks_.find(id);
    if (it == webhooks_.end()) return false;
    it->second.definition = definition;
    return true;
}

bool memory_webhook_store::save_positions(std::string const& id, std::vector<webhook_position> const& positions,
                                          std::optional<std::string> const&) {
    std::lock_guard lock(mutex_);
    auto it = webhooks_.find(id);
    if (it == webhooks_.end()) return false;
    for (auto const& position : positions) it->second.positions[position.channel] = position;
    return true;
}

void memory_webhook_store::forget_positions(std::string const& id, std::vector<std::string> const& channels) {
    std::lock_guard lock(mutex_);
    auto it = webhooks_.find(id);
    if (it == webhooks_.end()) return;
    for (auto const& channel : channels) it->second.positions.erase(channel);
}

bool memory_webhook_store::remove(std::string const& id) {
    std::lock_guard lock(mutex_);
    return webhooks_.erase(id) == 1;
}

}  // namespace kp::store
