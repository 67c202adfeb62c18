#pragma once
// Webhooks kept in process memory (`--store memory`): lost on restart, as the history is.
// One node: leases always held.

#include "store/webhook_store.hpp"

#include <map>
#include <mutex>

namespace kp::store {

class memory_webhook_store final : public webhook_store {
public:
    std::vector<stored_webhook> load_all() override;
    std::optional<stored_webhook> load(std::string const& id) override;
    bool create(stored_webhook const& webhook) override;
    bool update_definition(std::string const& id, std::string const& definition) override;
    bool save_positions(std::string const& id, std::vector<webhook_position> const& positions,
                        std::optional<std::string> const& holder) override;
    void forget_positions(std::string const& id, std::vector<std::string> const& channels) override;
    bool remove(std::string const& id) override;
    bool hold_lease(std::string const&, std::string const&, std::chrono::milliseconds) override { return true; }
    void release_lease(std::string const&, std::string const&) override {}

private:
    struct entry {
        std::string definition;
        std::map<std::string, webhook_position> positions;   // by channel
    };
    static stored_webhook copy(std::string const& id, entry const& e);

    std::mutex mutex_;
    std::map<std::string, entry> webhooks_;   // by id
};

}  // namespace kp::store
