// channels::subscriber_table: one shard's subscribers per channel.

#include "channels/subscriber_table.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using kp::channels::message;
using kp::channels::message_ptr;
using kp::channels::subscriber;
using kp::channels::subscriber_table;

namespace {

class fake_subscriber final : public subscriber {
public:
    void deliver(message_ptr const& m, std::uint64_t batch) override {
        received.push_back({m->channel, m->offset});
        batches.push_back(batch);
    }
    std::vector<std::pair<std::string, std::uint64_t>> received;
    std::vector<std::uint64_t> batches;
};

message_ptr event(std::string channel, std::uint64_t offset) {
    return message::from_record(std::move(channel), offset, 1000 + static_cast<std::int64_t>(offset), R"({"payload":{}})");
}

using received_list = std::vector<std::pair<std::string, std::uint64_t>>;

}  // namespace

TEST_CASE("add refuses a channel the subscriber already holds", "[subscriber_table]") {
    subscriber_table table;
    fake_subscriber a, b;
    CHECK(table.channel_count() == 0);
    CHECK(table.subscriber_count("/buckets/b") == 0);
    CHECK(table.add("/buckets/b", &a));
    CHECK_FALSE(table.add("/buckets/b", &a));
    CHECK(table.add("/buckets/b", &b));
    CHECK(table.add("/buckets/b/collections/c", &a));
    CHECK(table.channel_count() == 2);
    CHECK(table.subscriber_count("/buckets/b") == 2);
    CHECK(table.subscriber_count("/buckets/b/collections/c") == 1);
}

TEST_CASE("remove refuses what the subscriber does not hold and forgets empty channels",
          "[subscriber_table]") {
    subscriber_table table;
    fake_subscriber a, b;
    CHECK_FALSE(table.remove("/buckets/b", &a));
    REQUIRE(table.add("/buckets/b", &a));
    CHECK_FALSE(table.remove("/buckets/b", &b));
    CHECK_FALSE(table.remove("/buckets/other", &a));
    REQUIRE(table.add("/buckets/b", &b));
    CHECK(table.remove("/buckets/b", &a));
    CHECK_FALSE(table.remove("/buckets/b", &a));
    CHECK(table.subscriber_count("/buckets/b") == 1);
    CHECK(table.channel_count() == 1);
    CHECK(table.remove("/buckets/b", &b));
    CHECK(table.subscriber_count("/buckets/b") == 0);
    CHECK(table.channel_count() == 0);
    // A removed subscriber can come back.
    CHECK(table.add("/buckets/b", &a));
    CHECK(table.subscriber_count("/buckets/b") == 1);
}

TEST_CASE("deliver hands each subscriber its channels' messages in batch order", "[subscriber_table]") {
    subscriber_table table;
    fake_subscriber collection_only, bucket_only, both, none;
    REQUIRE(table.add("/buckets/b/collections/c", &collection_only));
    REQUIRE(table.add("/buckets/b", &bucket_only));
    REQUIRE(table.add("/buckets/b/collections/c", &both));
    REQUIRE(table.add("/buckets/b", &both));
    REQUIRE(table.add("/buckets/other", &none));

    std::vector<message_ptr> const batch = {
        event("/buckets/b/collections/c", 1), event("/buckets/b", 1), event("/buckets", 1),
        event("/buckets/b/collections/c", 2), event("/buckets/b", 2), event("/buckets", 2),
        event("/buckets/b/collections/d", 1)};
    table.deliver(batch);

    CHECK(collection_only.received == received_list{{"/buckets/b/collections/c", 1}, {"/buckets/b/collections/c", 2}});
    CHECK(bucket_only.received == received_list{{"/buckets/b", 1}, {"/buckets/b", 2}});
    CHECK(both.received == received_list{{"/buckets/b/collections/c", 1},
                                         {"/buckets/b", 1},
                                         {"/buckets/b/collections/c", 2},
                                         {"/buckets/b", 2}});
    CHECK(none.received.empty());
}

TEST_CASE("deliver shares the message, and stops after remove", "[subscriber_table]") {
    subscriber_table table;
    struct keeper final : subscriber {
        void deliver(message_ptr const& m, std::uint64_t) override { kept.push_back(m); }
        std::vector<message_ptr> kept;
    } a, b;
    REQUIRE(table.add("/buckets/b", &a));
    REQUIRE(table.add("/buckets/b", &b));
    auto const m = event("/buckets/b", 1);
    table.deliver({m});
    REQUIRE(a.kept.size() == 1);
    REQUIRE(b.kept.size() == 1);
    CHECK(a.kept[0].get() == m.get());
    CHECK(b.kept[0].get() == m.get());

    REQUIRE(table.remove("/buckets/b", &a));
    table.deliver({event("/buckets/b", 2)});
    CHECK(a.kept.size() == 1);
    REQUIRE(b.kept.size() == 2);
    CHECK(b.kept[1]->offset == 2);
    table.deliver({});
    CHECK(b.kept.size() == 2);
}

TEST_CASE("deliver numbers batches: one serial per transaction, a new one for the next", "[subscriber_table]") {
    subscriber_table table;
    fake_subscriber s;
    REQUIRE(table.add("/buckets/b", &s));
    table.deliver({event("/buckets/b", 1), event("/buckets/b", 2)});
    table.deliver({event("/buckets/b", 3)});
    REQUIRE(s.batches.size() == 3);
    CHECK(s.batches[0] == s.batches[1]);
    CHECK(s.batches[2] != s.batches[1]);
}
