#include "session/subscription_set.hpp"

#include "session/close_code.hpp"
#include "store/store_error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace kp::session {

subscription_set::subscription_set(channels::channel_hub& hub, channels::subscriber_table& table,
                                   channels::subscriber* self, send_queue& queue, session_port& port,
                                   session_metrics const& metrics)
    : hub_(hub), table_(table), self_(self), queue_(queue), port_(port), metrics_(metrics) {}

subscription_set::~subscription_set() {
    leave_all();
}

bool subscription_set::replaying(std::string const& channel) const {
    auto it = subs_.find(channel);
    return it != subs_.end() && it->second.replaying;
}

std::optional<std::uint64_t> subscription_set::position(std::string const& channel) const {
    auto it = subs_.find(channel);
    if (it == subs_.end()) return std::nullopt;
    return it->second.sent;
}

void subscription_set::enter(std::string const& channel) {
    // Counted once per session, as leave() uncounts it: the hub's count is of sessions.
    if (table_.add(channel, self_)) hub_.subscribed(channel);
}

void subscription_set::start(std::string const& channel, channels::resume_plan const& plan) {
    auto& sub = subs_[channel];
    sub.sent = plan.replay ? plan.replay_after : plan.offset;
    sub.replaying = plan.replay;
}

bool subscription_set::leave(std::string const& channel) {
    auto it = subs_.find(channel);
    bool const held = it != subs_.end();
    if (held) {
        forget_page(it->second);
        subs_.erase(it);
    }
    // Also undoes an enter() whose plan failed (not in subs_ yet).
    if (table_.remove(channel, self_)) hub_.unsubscribed(channel);
    return held;
}

void subscription_set::leave_all() {
    for (auto& [channel, sub] : subs_) {
        forget_page(sub);
        if (table_.remove(channel, self_)) hub_.unsubscribed(channel);
    }
    subs_.clear();
}

void subscription_set::deliver(channels::message_ptr const& m) {
    auto it = subs_.find(m->channel);
    if (it == subs_.end()) return;
    auto& sub = it->second;
    if (sub.replaying || m->offset <= sub.sent) return;   // the replay covers it, or sent already
    if (m->offset != sub.sent + 1) {
        // Cannot happen by design (see the class comment); if it ever does, fill the hole
        // from the history.
        spdlog::error("{} jumped from offset {} to {}; replaying", m->channel, sub.sent, m->offset);
        sub.replaying = true;
        return pump();
    }
    sub.sent = m->offset;
    queue_event(m);
    metrics_.events_delivered.inc();
}

void subscription_set::queue_event(channels::message_ptr const& m) {
    port_.push_event(queue_, m);   // shares the message's encoded frame: no copy
}

std::size_t subscription_set::low_water() const {
    return std::max<std::size_t>(queue_.limit() / 4, 1);
}

void subscription_set::pump() {
    // Replay goes at the pace the client reads: a page is queued only down to a low-water
    // mark, so a replay never pushes the queue towards the 4008 limit, however long it is.
    std::size_t const low = low_water();
    auto& history = hub_.history();
    bool queued = false;
    for (auto& [channel, sub] : subs_) {
        if (failed_ || !queue_.open()) return;
        if (!sub.replaying || sub.loading || queue_.bytes() >= low) continue;
        queued = true;
        if (sub.queued_of_page < sub.page.size()) {
            queue_page(sub, low);   // the rest of the last page first
            continue;
        }
        if (!history.read_in_memory(channel, sub.sent)) {
            read_off_thread(channel, sub);
            continue;
        }
        std::vector<channels::message_ptr> page;
        try {
            page = hub_.read(channel, sub.sent, replay_page);
        } catch (store::store_error const& e) {
            spdlog::error("reading {} from the store: {}", channel, e.what());
            return fail(close_code::internal_error, "history store unavailable; resume later");
        }
        bool const reaches_head = page.size() < replay_page;
        if (!take_page(sub, std::move(page), low)) return;
        // Caught up: this read, on the session's thread and from memory, reached the head, and
        // all of it is queued in this same turn; every later offset arrives live. (A page read
        // off the thread, or queued over several turns, never decides this: live events that
        // arrived in between were dropped, and the next read picks them up.)
        if (reaches_head && sub.page.empty())
            sub.replaying = false;
        else
            keep_page_within(sub, low);   // a slow reader holds at most this much read ahead
    }
    if (queued) port_.queued();
}

void subscription_set::read_off_thread(std::string const& channel, subscription& sub) {
    sub.loading = true;
    std::uint64_t const after = sub.sent;
    port_.read_page(channel, after, replay_page,
                    [this, channel, after](std::vector<channels::message_ptr> page, bool failed) {
                        on_page(channel, after, std::move(page), failed);
                    });
}

void subscription_set::on_page(std::string const& channel, std::uint64_t after,
                               std::vector<channels::message_ptr> page, bool failed) {
    auto it = subs_.find(channel);
    // Unsubscribed (perhaps subscribed again) or closed meanwhile: a stale page.
    if (failed_ || !queue_.open() || it == subs_.end() || !it->second.loading || it->second.sent != after) return;
    auto& sub = it->second;
    sub.loading = false;
    if (failed) return fail(close_code::internal_error, "history store unavailable; resume later");
    // Not in memory yet nothing on disk: the history was trimmed meanwhile.
    if (page.empty()) return fail(close_code::too_slow, "history moved past the replay; resume to resync");
    // Queued down to the low-water mark like a page from memory (the rest goes at the next
    // pumps), so that a page of large events never takes the queue over its 4008 limit.
    if (!take_page(sub, std::move(page), low_water())) return;
    port_.queued();
    pump();
}

bool subscription_set::take_page(subscription& sub, std::vector<channels::message_ptr> page,
                                 std::size_t max_queued_bytes) {
    if (!page.empty() && page.front()->offset != sub.sent + 1) {
        // The history was trimmed past this client while it replayed slowly.
        fail(close_code::too_slow, "history moved past the replay; resume to resync");
        return false;
    }
    forget_page(sub);
    sub.page = std::move(page);
    std::size_t read = 0;
    for (auto const& m : sub.page) read += m->wire.size();
    count_read_ahead(static_cast<std::int64_t>(read));
    queue_page(sub, max_queued_bytes);
    return true;
}

void subscription_set::queue_page(subscription& sub, std::size_t max_queued_bytes) {
    std::size_t queued = 0;
    while (sub.queued_of_page < sub.page.size() && queue_.bytes() < max_queued_bytes) {
        auto const& m = sub.page[sub.queued_of_page++];
        queued += m->wire.size();
        sub.sent = m->offset;
        queue_event(m);
        metrics_.events_replayed.inc();
    }
    count_read_ahead(-static_cast<std::int64_t>(queued));
    if (sub.queued_of_page == sub.page.size()) {
        sub.page.clear();   // the frames live on in the send queue as long as they are needed
        sub.queued_of_page = 0;
    }
}

void subscription_set::keep_page_within(subscription& sub, std::size_t budget) {
    while (page_bytes_ > budget && sub.queued_of_page < sub.page.size()) {
        count_read_ahead(-static_cast<std::int64_t>(sub.page.back()->wire.size()));
        sub.page.pop_back();
    }
    if (sub.queued_of_page == sub.page.size()) {
        sub.page.clear();
        sub.queued_of_page = 0;
    }
}

void subscription_set::forget_page(subscription& sub) {
    std::size_t dropped = 0;
    for (std::size_t i = sub.queued_of_page; i < sub.page.size(); ++i) dropped += sub.page[i]->wire.size();
    count_read_ahead(-static_cast<std::int64_t>(dropped));
    sub.page.clear();
    sub.queued_of_page = 0;
}

void subscription_set::count_read_ahead(std::int64_t bytes) {
    if (bytes == 0) return;
    page_bytes_ = static_cast<std::size_t>(static_cast<std::int64_t>(page_bytes_) + bytes);
    metrics_.replay_read_ahead_bytes.add(bytes);
}

void subscription_set::fail(std::uint16_t code, std::string const& reason) {
    if (failed_) return;
    failed_ = true;
    port_.close(code, reason);
}

}  // namespace kp::session
