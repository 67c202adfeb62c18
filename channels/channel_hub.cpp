#include "channels/channel_hub.hpp"

#include "store/store_error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <variant>

namespace kp::channels {

channel_hub::channel_hub(store::history_store& store, std::size_t max_replay)
    : store_(store),
      max_replay_(max_replay),
      mapping_([this](std::string const& bucket_id) { return known_collections(bucket_id); }) {}

std::size_t channel_hub::add_shard(shard_sink sink) {
    shards_.push_back(std::move(sink));
    pending_.push_back(std::make_unique<std::atomic<std::size_t>>(0));
    return shards_.size() - 1;
}

void channel_hub::post_to_shards(message_batch batch) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        pending_[i]->fetch_add(1, std::memory_order_relaxed);   // delivered(i) takes it back
        shards_[i](batch);
    }
    // Events published here and, with a shared store, on other nodes alike.
    if (observer_) observer_(*batch);
}

void channel_hub::delivered(std::size_t shard) {
    // Counts move by one, so exactly one delivery brings a shard back within the limit: only
    // that one wakes the publishers waiting (the lock orders it before a waiter's check).
    if (pending_[shard]->fetch_sub(1, std::memory_order_relaxed) == max_pending_batches + 1) {
        { std::lock_guard lock(caught_up_mutex_); }
        caught_up_.notify_all();
    }
}

bool channel_hub::behind() const {
    for (auto const& pending : pending_)
        if (pending->load(std::memory_order_relaxed) > max_pending_batches) return true;
    return false;
}

void channel_hub::wait_until_caught_up(std::stop_token const& stop) {
    if (!behind()) return;
    std::unique_lock lock(caught_up_mutex_);
    held_back_.fetch_add(1);
    held_back_.notify_all();
    caught_up_.wait(lock, stop, [this] { return !behind(); });
    held_back_.fetch_sub(1);
}

void channel_hub::set_publish_observer(publish_observer observer) {
    observer_ = std::move(observer);
}

publish_result channel_hub::publish(nlohmann::ordered_json const& body) {
    return publish_all({&body}).front();
}

std::vector<publish_result> channel_hub::publish_all(std::vector<nlohmann::ordered_json const*> const& bodies) {
    std::vector<publish_result> results(bodies.size());
    std::vector<std::vector<store::append_event>> transactions;
    std::vector<std::size_t> owners;   // transactions[k] belongs to bodies[owners[k]]
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        std::variant<std::vector<store::append_event>, mapping_error> mapped;
        try {
            mapped = mapping_.map(*bodies[i]);
        } catch (std::runtime_error const& e) {   // the idempotency key could not be computed
            results[i].outcome = publish_result::status::unavailable;
            results[i].error = e.what();
            continue;
        }
        if (auto* error = std::get_if<mapping_error>(&mapped)) {
            results[i].outcome = publish_result::status::bad_request;
            results[i].error = std::move(error->message);
            continue;
        }
        transactions.push_back(std::move(std::get<std::vector<store::append_event>>(mapped)));
        owners.push_back(i);
    }
    if (transactions.empty()) return results;

    std::lock_guard lock(publish_mutex_);
    std::vector<std::vector<store::appended_event>> appended;
    try {
        appended = store_.append_group(transactions);
    } catch (store::store_error const& e) {
        for (auto i : owners) {
            results[i].outcome = publish_result::status::unavailable;
            results[i].error = e.what();
        }
        return results;
    }
    // One batch per transaction keeps each shard's deliveries in offset order.
    for (std::size_t k = 0; k < transactions.size(); ++k) {
        auto& result = results[owners[k]];
        auto batch = std::make_shared<std::vector<message_ptr>>();
        for (std::size_t e = 0; e < appended[k].size(); ++e) {
            auto const& event = appended[k][e];
            result.published.insert(result.published.end(), event.offsets.begin(), event.offsets.end());
            if (event.duplicate || store_.announces_events()) continue;
            auto const& entries = transactions[k][e].entries;
            for (std::size_t j = 0; j < entries.size(); ++j)
                batch->push_back(message::from_record(entries[j].channel, event.offsets[j].offset,
                                                      entries[j].timestamp, entries[j].body));
        }
        if (!batch->empty()) {
            post_to_shards(std::move(batch));
        }
    }
    return results;
}

void channel_hub::deliver_assigned(std::vector<store::event_record> const& transaction) {
    auto batch = std::make_shared<std::vector<message_ptr>>();
    batch->reserve(transaction.size());
    for (auto const& record : transaction) batch->push_back(message::from_record(record));
    if (batch->empty()) return;
    post_to_shards(std::move(batch));
}

resume_plan channel_hub::plan_live(std::string const& channel) {
    return {store_.epoch(), store_.span(channel).last, true, 0, false};
}

resume_plan channel_hub::plan_after(std::string const& channel, std::uint64_t after, bool same_epoch,
                                    std::uint64_t max_events) {
    auto const span = store_.span(channel);
    resume_plan plan{store_.epoch(), span.last, false, span.last, false};
    if (!same_epoch || after > span.last) return plan;
    if (after == span.last) {
        plan.recovered = true;
        return plan;
    }
    // Events after..last must all still be held, and not too many of them.
    bool const held = span.first != 0 && after + 1 >= span.first;
    if (!held || span.last - after > max_events) return plan;
    plan.recovered = true;
    plan.replay = true;
    plan.replay_after = after;
    return plan;
}

resume_plan channel_hub::plan_from(std::string const& channel, since_position const& since) {
    return plan_after(channel, since.offset, since.epoch == store_.epoch(), max_replay_);
}

resume_plan channel_hub::plan_from_position(std::string const& channel, store::timestamp_position const& position) {
    return plan_after(channel, position.after, position.covered, max_replay_);
}

resume_plan channel_hub::plan_history(std::string const& channel, std::uint64_t since,
                                      std::optional<std::string> const& epoch) {
    return plan_after(channel, since, !epoch || *epoch == store_.epoch(), std::numeric_limits<std::uint64_t>::max());
}

std::vector<message_ptr> channel_hub::read(std::string const& channel, std::uint64_t after,
                                           std::size_t limit) {
    std::vector<message_ptr> out;
    for (auto const& record : store_.read(channel, after, limit)) out.push_back(message::from_record(record));
    return out;
}

void channel_hub::subscribed(std::string const& channel) {
    std::lock_guard lock(subscribed_mutex_);
    ++subscribed_[channel];
}

void channel_hub::unsubscribed(std::string const& channel) {
    std::lock_guard lock(subscribed_mutex_);
    auto it = subscribed_.find(channel);
    if (it != subscribed_.end() && --it->second == 0) subscribed_.erase(it);
}

channel_hub::subscription_count channel_hub::subscription_counts() {
    std::lock_guard lock(subscribed_mutex_);
    subscription_count out{subscribed_.size(), 0};
    for (auto const& [name, count] : subscribed_) out.subscriptions += count;
    return out;
}

std::size_t channel_hub::subscriber_count(std::string const& channel) {
    std::lock_guard lock(subscribed_mutex_);
    auto it = subscribed_.find(channel);
    return it == subscribed_.end() ? 0 : it->second;
}

std::vector<std::string> channel_hub::subscribed_with_prefix(std::string const& prefix) {
    std::vector<std::string> out;
    std::lock_guard lock(subscribed_mutex_);
    for (auto const& [name, count] : subscribed_)
        if (name.starts_with(prefix)) out.push_back(name);
    return out;
}

std::vector<std::string> channel_hub::known_collections(std::string const& bucket_id) {
    std::string const prefix = "/buckets/" + bucket_id + "/collections/";
    auto out = store_.channels_with_prefix(prefix);
    {
        std::lock_guard lock(subscribed_mutex_);
        for (auto const& [name, count] : subscribed_)
            if (name.starts_with(prefix)) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace kp::channels
