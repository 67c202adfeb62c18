#include "server/telemetry/instrumented_store.hpp"

#include "store/store_error.hpp"

#include <chrono>

namespace kp::server {

instrumented_store::instrumented_store(std::unique_ptr<store::history_store> inner, server_metrics& metrics)
    : inner_(std::move(inner)),
      append_{metrics.store_seconds.with({"append"}), metrics.store_errors.with({"append"})},
      read_{metrics.store_seconds.with({"read"}), metrics.store_errors.with({"read"})},
      span_{metrics.store_seconds.with({"span"}), metrics.store_errors.with({"span"})},
      position_{metrics.store_seconds.with({"position_after"}), metrics.store_errors.with({"position_after"})},
      prefix_{metrics.store_seconds.with({"channels_with_prefix"}), metrics.store_errors.with({"channels_with_prefix"})},
      trim_{metrics.store_seconds.with({"trim"}), metrics.store_errors.with({"trim"})},
      healthy_{metrics.store_seconds.with({"healthy"}), metrics.store_errors.with({"healthy"})} {}

template <class F>
auto instrumented_store::timed(operation& op, F&& f) -> decltype(f()) {
    auto const started = std::chrono::steady_clock::now();
    auto observe = [&] {
        op.seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    };
    try {
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            observe();
        } else {
            auto result = f();
            observe();
            return result;
        }
    } catch (store::store_error const&) {
        observe();
        op.errors.inc();
        throw;
    }
}

std::vector<std::vector<store::appended_event>> instrumented_store::append_group(
    std::span<std::vector<store::append_event> const> transactions) {
    return timed(append_, [&] { return inner_->append_group(transactions); });
}

std::vector<store::event_record> instrumented_store::read(std::string const& channel, std::uint64_t after,
                                                          std::size_t limit) {
    return timed(read_, [&] { return inner_->read(channel, after, limit); });
}

store::channel_span instrumented_store::span(std::string const& channel) {
    return timed(span_, [&] { return inner_->span(channel); });
}

store::timestamp_position instrumented_store::position_after(std::string const& channel, std::int64_t timestamp) {
    return timed(position_, [&] { return inner_->position_after(channel, timestamp); });
}

std::vector<std::string> instrumented_store::channels_with_prefix(std::string const& prefix) {
    return timed(prefix_, [&] { return inner_->channels_with_prefix(prefix); });
}

void instrumented_store::trim(std::int64_t now_ms) {
    timed(trim_, [&] { inner_->trim(now_ms); });
}

bool instrumented_store::healthy() {
    // An unhealthy answer is a failure of the store too.
    bool const ok = timed(healthy_, [&] { return inner_->healthy(); });
    if (!ok) healthy_.errors.inc();
    return ok;
}

}  // namespace kp::server
