#include "server/webhooks/webhook_service.hpp"

#include "server/telemetry/log_event.hpp"

#include <boost/asio/post.hpp>

#include <functional>
#include <set>

namespace kp::server {

namespace asio = boost::asio;

webhook_service::webhook_service(webhook_context& context, std::vector<asio::io_context*> const& loops,
                                 asio::io_context& control)
    : context_(context), tick_(control) {
    for (auto* loop : loops) runners_.push_back(std::make_shared<webhook_runner>(*loop, context_));
}

void webhook_service::start() {
    request_sync();
    schedule_tick();
}

void webhook_service::schedule_tick() {
    tick_.expires_after(sync_period);
    tick_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_) return;
        request_sync();
        // The safety net under the publish observer: every 5 s each runner looks again.
        if (++ticks_ % 5 == 0)
            for (auto& r : runners_) r->poke_all();
        schedule_tick();
    });
}

void webhook_service::changed(std::string const& /*id*/) { request_sync(); }

void webhook_service::request_sync() {
    if (stopped_) return;
    if (syncing_.exchange(true)) {
        again_ = true;   // the running sync goes once more
        return;
    }
    asio::post(context_.blocking, [this] {
        do {
            again_ = false;
            sync();
        } while (again_ && !stopped_);
        syncing_ = false;
    });
}

webhook_runner& webhook_service::runner_of(std::string const& id) {
    return *runners_[std::hash<std::string>{}(id) % runners_.size()];
}

void webhook_service::sync() {
    std::vector<store::stored_webhook> stored;
    try {
        stored = context_.store.load_all();
    } catch (std::exception const& e) {
        log_event(spdlog::level::warn, "webhook.sync_failed", {{"error", e.what()}});
        return;
    }
    std::set<std::string> seen;
    std::unordered_set<std::string> watched;
    status_counts counts;
    for (auto const& w : stored) {
        seen.insert(w.id);
        auto definition = webhooks::webhook_definition::from_store_text(w.definition);
        if (!definition) continue;
        bool was_running = false;
        {
            std::lock_guard lock(mutex_);
            was_running = known_[w.id].running;
        }
        bool held = false;
        if (definition->enabled) {
            try {
                held = context_.store.hold_lease(w.id, context_.node, lease_ttl);
            } catch (std::exception const&) {
                held = was_running;   // the store is away: nobody can move a position; keep things as they are
            }
        } else if (was_running) {
            try {
                context_.store.release_lease(w.id, context_.node);
            } catch (std::exception const&) {
            }
        }
        std::lock_guard lock(mutex_);
        auto& k = known_[w.id];
        if (held) {
            for (auto const& channel : definition->channels) watched.insert(channel);
            if (!k.running) runner_of(w.id).start(*definition, w.positions);
            else if (k.text != w.definition) runner_of(w.id).update(*definition, w.positions);
            k.running = true;
        } else if (k.running) {
            runner_of(w.id).stop(w.id);
            k.running = false;
            if (definition->enabled) context_.board.forget(w.id, false);   // another node delivers it now
        }
        k.text = w.definition;
        if (!definition->enabled) ++counts.disabled;
        else if (auto p = context_.board.progress(w.id); p && p->retrying()) ++counts.retrying;
        else ++counts.active;
    }
    std::lock_guard lock(mutex_);
    for (auto it = known_.begin(); it != known_.end();) {
        if (seen.contains(it->first)) {
            ++it;
            continue;
        }
        if (it->second.running) runner_of(it->first).stop(it->first);
        context_.board.forget(it->first, false);
        it = known_.erase(it);
    }
    watched_ = std::move(watched);
    counts_ = counts;
}

void webhook_service::observe(std::vector<channels::message_ptr> const& batch) {
    std::vector<std::string> channels;
    {
        std::lock_guard lock(mutex_);
        if (watched_.empty()) return;
        for (auto const& m : batch)
            if (watched_.contains(m->channel) &&
                std::find(channels.begin(), channels.end(), m->channel) == channels.end())
                channels.push_back(m->channel);
    }
    if (channels.empty()) return;
    for (auto& r : runners_) r->poke(channels);
}

webhook_service::status_counts webhook_service::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

bool webhook_service::delivers(std::string const& id) const {
    std::lock_guard lock(mutex_);
    auto it = known_.find(id);
    return it != known_.end() && it->second.running;
}

void webhook_service::stop() {
    if (stopped_.exchange(true)) return;
    tick_.cancel();
    for (auto& r : runners_) r->shutdown();
    // Wait for a sync in progress, then give the leases back.
    while (syncing_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::lock_guard lock(mutex_);
    for (auto const& [id, k] : known_) {
        if (!k.running) continue;
        try {
            context_.store.release_lease(id, context_.node);
        } catch (std::exception const&) {
        }
    }
}

}  // namespace kp::server
