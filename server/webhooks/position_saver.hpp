#pragma once
// Saves the positions webhooks acknowledge, in groups: while one group is written (with
// SQLite, one transaction and one fsync), the saves asked meanwhile wait and form the next
// group. Without it every acknowledged request costs a commit of its own, one at a time, and
// those commits hold the file's write lock against the history's appends.

#include "store/webhook_store.hpp"

#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace kp::server {

class position_saver {
public:
    // `kept`: saved (false: the webhook is gone, the lease is another node's, or the store
    // failed). Called on a thread of the blocking pool.
    using done = std::function<void(bool kept)>;

    position_saver(store::webhook_store& store, boost::asio::thread_pool& blocking) : store_(store), blocking_(blocking) {}

    // Any thread.
    void save(store::webhook_store::position_save save, done then);

private:
    void drain();

    store::webhook_store& store_;
    boost::asio::thread_pool& blocking_;
    std::mutex mutex_;
    std::vector<std::pair<store::webhook_store::position_save, done>> queue_;
    bool draining_ = false;
};

}  // namespace kp::server
