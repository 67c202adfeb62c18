#pragma once
// A history store that times every operation of the store it wraps and counts its failures
// (kinto_push_store_operation_seconds and kinto_push_store_errors_total, by operation).
// kind(), epoch(), read_in_memory() and appends_in_memory() are answered from memory and pass
// through untimed.

#include "metrics/counter.hpp"
#include "metrics/histogram.hpp"
#include "server/telemetry/server_metrics.hpp"
#include "store/history_store.hpp"

#include <memory>

namespace kp::server {

class instrumented_store : public store::history_store {
public:
    instrumented_store(std::unique_ptr<store::history_store> inner, server_metrics& metrics);

    std::string kind() const override { return inner_->kind(); }
    std::string epoch() const override { return inner_->epoch(); }
    // The store it measures (the webhook store shares its connection or file).
    store::history_store& inner() { return *inner_; }
    std::vector<std::vector<store::appended_event>> append_group(
        std::span<std::vector<store::append_event> const> transactions) override;
    bool read_in_memory(std::string const& channel, std::uint64_t after) override {
        return inner_->read_in_memory(channel, after);
    }
    std::vector<store::event_record> read(std::string const& channel, std::uint64_t after,
                                          std::size_t limit) override;
    store::channel_span span(std::string const& channel) override;
    store::timestamp_position position_after(std::string const& channel, std::int64_t timestamp) override;
    std::optional<store::timestamp_position> position_in_memory(std::string const& channel,
                                                                std::int64_t timestamp) override {
        return inner_->position_in_memory(channel, timestamp);
    }
    std::vector<std::string> channels_with_prefix(std::string const& prefix) override;
    void trim(std::int64_t now_ms) override;
    bool healthy() override;
    bool appends_in_memory() const override { return inner_->appends_in_memory(); }
    bool announces_events() const override { return inner_->announces_events(); }
    void set_announcer(event_sink announce, std::function<void()> history_lost) override {
        inner_->set_announcer(std::move(announce), std::move(history_lost));
    }

private:
    struct operation {
        metrics::histogram& seconds;
        metrics::counter& errors;
    };
    operation measure(char const* name);
    // Runs f, observing its duration; a store_error counts as an error and is rethrown.
    template <class F>
    auto timed(operation& op, F&& f) -> decltype(f());

    std::unique_ptr<store::history_store> inner_;
    operation append_, read_, span_, position_, prefix_, trim_, healthy_;
};

}  // namespace kp::server
