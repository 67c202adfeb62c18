#include "channels/channel_hub.hpp"

#include "store/store_error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <variant>

namespace kp::channels {

channel_hub::channel_hub(store::history_store& store, std::size_t max_replay)
    : store_(store),
      max_replay_(max_replay),
      mapping_([this](std::string const& bucket_id) { return known_collections(bucket_id); }) {}

void channel_hub::add_shard(shard_sink sink) {
    shards_.push_back(std::move(sink));
}

publish_result channel_hub::publish(nlohmann::ordered_json const& body) {
    publish_result result;
    auto mapped = mapping_.map(body);
    if (auto const* error = std::get_if<mapping_error>(&mapped)) {
        result.outcome = publish_result::status::bad_request;
        result.error = error->message;
        return result;
    }
    auto const& transaction = std::get<std::vector<store::append_event>>(mapped);

    std::lock_guard lock(publish_mutex_);
    std::vector<store::appended_event> appended;
    try {
        appended = store_.append(transaction);
    } catch (store::store_error const& e) {
        result.outcome = publish_result::status::unavailable;
        result.error = e.what();
        return result;
    }
    auto batch = std::make_shared<std::vector<message_ptr>>();
    for (std::size_t i = 0; i < appended.size(); ++i) {
        auto const& event = appended[i];
        result.published.insert(result.published.end(), event.offsets.begin(), event.offsets.end());
        if (event.duplicate) continue;
        auto const& entries = transaction[i].entries;
        for (std::size_t j = 0; j < entries.size(); ++j)
            batch->push_back(message::from_record(entries[j].channel, event.offsets[j].offset,
                                                  entries[j].timestamp, entries[j].body));
    }
    if (!batch->empty()) {
        message_batch shared = std::move(batch);
        for (auto const& shard : shards_) shard(shared);
    }
    return result;
}

resume_plan channel_hub::plan_live(std::string const& channel) {
    return {store_.epoch(), store_.span(channel).last, true, 0, false};
}

resume_plan channel_hub::plan_after(std::string const& channel, std::uint64_t after, bool possible) {
    auto const span = store_.span(channel);
    resume_plan plan{store_.epoch(), span.last, false, span.last, false};
    if (!possible || after > span.last) return plan;
    if (after == span.last) {
        plan.recovered = true;
        return plan;
    }
    // Events after..last must all still be held, and not too many of them.
    bool const held = span.first != 0 && after + 1 >= span.first;
    if (!held || span.last - after > max_replay_) return plan;
    plan.recovered = true;
    plan.replay = true;
    plan.replay_after = after;
    return plan;
}

resume_plan channel_hub::plan_from(std::string const& channel, since_position const& since) {
    return plan_after(channel, since.offset, since.epoch == store_.epoch());
}

resume_plan channel_hub::plan_from_timestamp(std::string const& channel, std::int64_t timestamp) {
    auto const position = store_.position_after(channel, timestamp);
    return plan_after(channel, position.after, position.covered);
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
