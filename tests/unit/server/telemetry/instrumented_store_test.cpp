// server::instrumented_store: times the operations of the store it wraps, counts failures, and
// passes answers (and exceptions) through unchanged.

#include "server/telemetry/instrumented_store.hpp"

#include "store/memory_store.hpp"
#include "store/store_error.hpp"
#include "tests/unit/store/store_test_support.hpp"

#include <catch2/catch.hpp>

#include <memory>

using kp::server::instrumented_store;
using kp::server::server_metrics;
using kp::store::memory_store;

namespace {

// A store whose appends fail and whose health check says so; reads answer empty.
class broken_store : public kp::store::history_store {
public:
    std::string kind() const override { return "broken"; }
    std::string epoch() const override { return "e"; }
    std::vector<std::vector<kp::store::appended_event>> append_group(
        std::span<std::vector<kp::store::append_event> const>) override {
        throw kp::store::store_error("disk full");
    }
    bool read_in_memory(std::string const&, std::uint64_t) override { return false; }
    std::vector<kp::store::event_record> read(std::string const&, std::uint64_t, std::size_t) override {
        throw kp::store::store_error("I/O error");
    }
    kp::store::channel_span span(std::string const&) override { return {}; }
    kp::store::timestamp_position position_after(std::string const&, std::int64_t) override { return {}; }
    std::vector<std::string> channels_with_prefix(std::string const&) override { return {}; }
    void trim(std::int64_t) override {}
    bool healthy() override { return false; }
};

}  // namespace

TEST_CASE("the instrumented store times each operation and forwards the answers", "[metrics][store]") {
    server_metrics metrics;
    instrumented_store store(std::make_unique<memory_store>(kp::store::retention{100, 3'600'000}), metrics);
    CHECK(store.kind() == "memory");
    CHECK(store.appends_in_memory());   // publish_queue's direct mode still applies
    auto appended = store.append({store_test::event("k1", {store_test::col_c})});
    REQUIRE(appended.size() == 1);
    CHECK(appended[0].offsets[0].offset == 1);
    CHECK(store_test::offsets_of(store.read(store_test::col_c, 0, 10)) == std::vector<std::uint64_t>{1});
    CHECK(store.span(store_test::col_c).last == 1);
    CHECK(store.healthy());
    CHECK(metrics.store_seconds.with({"append"}).collect().count == 1);
    CHECK(metrics.store_seconds.with({"read"}).collect().count == 1);
    CHECK(metrics.store_seconds.with({"span"}).collect().count == 1);
    CHECK(metrics.store_seconds.with({"healthy"}).collect().count == 1);
    CHECK(metrics.store_errors.with({"append"}).value() == 0);
    auto const text = metrics.registry().render();
    CHECK_THAT(text, Catch::Contains("kinto_push_store_operation_seconds_count{operation=\"append\"} 1"));
}

TEST_CASE("the instrumented store counts failures and rethrows them", "[metrics][store]") {
    server_metrics metrics;
    instrumented_store store(std::make_unique<broken_store>(), metrics);
    CHECK_THROWS_AS(store.append({store_test::event("k1", {store_test::col_c})}), kp::store::store_error);
    CHECK_THROWS_AS(store.read(store_test::col_c, 0, 10), kp::store::store_error);
    CHECK_FALSE(store.healthy());
    CHECK_FALSE(store.appends_in_memory());
    CHECK(metrics.store_errors.with({"read"}).value() == 1);
    CHECK(metrics.store_errors.with({"append"}).value() == 1);
    CHECK(metrics.store_errors.with({"healthy"}).value() == 1);
    CHECK(metrics.store_seconds.with({"append"}).collect().count == 1);   // timed as well
}
