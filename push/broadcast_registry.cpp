#include "push/broadcast_registry.hpp"

#include "push/broadcast_version.hpp"

#include <algorithm>

namespace kp::push {

broadcast_registry::broadcast_registry(std::vector<broadcast_spec> specs, clock::duration debounce)
    : specs_(std::move(specs)), debounce_(debounce), states_(specs_.size()) {
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        by_channel_[specs_[i].channel].push_back(i);
        by_id_.emplace(specs_[i].id, i);
    }
}

void broadcast_registry::add_sink(sink s) {
    sinks_.push_back(std::move(s));
}

void broadcast_registry::load(store::history_store& history) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        auto const span = history.span(specs_[i].channel);
        if (span.last == 0) continue;
        auto last = history.read(specs_[i].channel, span.last - 1, 1);
        if (last.empty()) continue;   // aged out of the history: unknown until the next event
        states_[i].published = states_[i].latest = broadcast_version(last.front().timestamp);
    }
}

std::optional<broadcast_registry::clock::time_point> broadcast_registry::observe(
    std::vector<channels::message_ptr> const& batch, clock::time_point now) {
    std::vector<std::size_t> touched;
    std::lock_guard lock(mutex_);
    for (auto const& m : batch) {
        auto it = by_channel_.find(m->channel);
        if (it == by_channel_.end()) continue;
        for (auto i : it->second) {
            states_[i].latest = broadcast_version(m->timestamp);   // the last event of the batch wins
            if (std::find(touched.begin(), touched.end(), i) == touched.end()) touched.push_back(i);
        }
    }
    std::vector<std::size_t> now_due;
    for (auto i : touched) {
        auto& s = states_[i];
        if (s.latest == s.published) {
            s.pending = false;
            continue;
        }
        if (!s.published_at || now - *s.published_at >= debounce_) now_due.push_back(i);
        else s.pending = true;
    }
    if (!now_due.empty()) publish(now_due, now);
    return next_due();
}

std::optional<broadcast_registry::clock::time_point> broadcast_registry::flush(clock::time_point now) {
    std::lock_guard lock(mutex_);
    std::vector<std::size_t> due;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        auto const& s = states_[i];
        if (s.pending && (!s.published_at || now - *s.published_at >= debounce_)) due.push_back(i);
    }
    if (!due.empty()) publish(due, now);
    return next_due();
}

void broadcast_registry::publish(std::vector<std::size_t> const& indexes, clock::time_point now) {
    std::vector<broadcast_change::entry> entries;
    for (auto i : indexes) {
        auto& s = states_[i];
        s.published = s.latest;
        s.published_at = now;
        s.pending = false;
        entries.push_back({i, specs_[i].id, s.published});
    }
    auto change = std::make_shared<broadcast_change const>(std::move(entries));
    for (auto const& deliver : sinks_) deliver(change);
}

std::optional<broadcast_registry::clock::time_point> broadcast_registry::next_due() const {
    std::optional<clock::time_point> due;
    for (auto const& s : states_)
        if (s.pending && s.published_at) {
            auto const at = *s.published_at + debounce_;
            if (!due || at < *due) due = at;
        }
    return due;
}

std::optional<std::size_t> broadcast_registry::index_of(std::string_view id) const {
    auto it = by_id_.find(std::string(id));
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> broadcast_registry::versions() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    out.reserve(states_.size());
    for (auto const& s : states_) out.push_back(s.published);
    return out;
}

}  // namespace kp::push
