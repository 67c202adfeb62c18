// channels::channel_hub over a store::memory_store: publishing, fan-out to shards, idempotency,
// the bucket-delete cascade and resume plans (PROTOCOL.md sections 2 and 3).

#include "channels/channel_hub.hpp"

#include "store/memory_store.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using kp::channels::channel_hub;
using kp::channels::message_batch;
using kp::channels::publish_result;
using kp::channels::resume_plan;
using kp::channels::since_position;
using kp::store::channel_offset;
using kp::store::memory_store;
using kp::store::retention;
using ordered = nlohmann::ordered_json;

namespace {

std::string const collection_c = "/buckets/b/collections/c";
std::string const collection_d = "/buckets/b/collections/d";
std::string const bucket_b = "/buckets/b";
std::string const firehose = "/buckets";

// A record event of /buckets/b/collections/{cid}; `last_modified` makes it unique.
ordered record_event(std::string const& cid, std::string const& rid, std::int64_t last_modified,
                     std::string const& action = "update") {
    ordered event;
    event["payload"] = {{"timestamp", last_modified},
                        {"action", action},
                        {"uri", "/buckets/b/collections/" + cid + "/records/" + rid},
                        {"user_id", "account:alice"},
                        {"resource_name", "record"},
                        {"bucket_id", "b"},
                        {"collection_id", cid},
                        {"record_id", rid}};
    event["impacted_objects"] = ordered::array({{{"new", {{"id", rid}, {"last_modified", last_modified}}}}});
    return event;
}

ordered bucket_delete_event(std::string const& bid, std::int64_t timestamp) {
    ordered event;
    event["payload"] = {{"timestamp", timestamp}, {"action", "delete"}, {"uri", "/buckets/" + bid},
                        {"resource_name", "bucket"}, {"bucket_id", bid}};
    event["impacted_objects"] = ordered::array(
        {{{"new", {{"id", bid}, {"last_modified", timestamp}, {"deleted", true}}},
          {"old", {{"id", bid}, {"last_modified", timestamp - 1000}}}}});
    return event;
}

ordered list_of(std::vector<ordered> events) {
    ordered body;
    body["events"] = ordered::array();
    for (auto& e : events) body["events"].push_back(std::move(e));
    return body;
}

publish_result publish_ok(channel_hub& hub, ordered const& body) {
    auto result = hub.publish(body);
    if (result.outcome != publish_result::status::ok) FAIL("publish failed: " << result.error);
    return result;
}

// What one shard received: per batch, the (channel, offset) of each message.
struct shard_log {
    std::vector<std::vector<std::pair<std::string, std::uint64_t>>> batches;
    std::vector<message_batch> raw;
    channel_hub::shard_sink sink() {
        return [this](message_batch batch) {
            raw.push_back(batch);
            auto& out = batches.emplace_back();
            for (auto const& m : *batch) out.emplace_back(m->channel, m->offset);
        };
    }
};

using pairs = std::vector<std::pair<std::string, std::uint64_t>>;

// Publishes `count` record events on collection_c with timestamps 100, 200, …
void fill(channel_hub& hub, int count, std::int64_t step = 100) {
    for (int i = 1; i <= count; ++i) publish_ok(hub, record_event("c", "r" + std::to_string(i), step * i));
}

// The plan of a `since: {timestamp}` as a session makes it: the store's position (from memory
// when it can answer, else from position_after, which sessions ask on the blocking pool).
resume_plan by_timestamp(channel_hub& hub, std::string const& channel, std::int64_t timestamp) {
    auto& store = hub.history();
    auto const position = store.position_in_memory(channel, timestamp);
    auto const from_disk = store.position_after(channel, timestamp);
    if (position) {
        CHECK(position->after == from_disk.after);
        CHECK(position->covered == from_disk.covered);
    }
    return hub.plan_from_position(channel, position ? *position : from_disk);
}

void check_not_recovered(resume_plan const& plan, std::string const& epoch, std::uint64_t head) {
    CHECK_FALSE(plan.recovered);
    CHECK_FALSE(plan.replay);
    CHECK(plan.epoch == epoch);
    CHECK(plan.offset == head);
}

void check_replay(resume_plan const& plan, std::uint64_t after, std::uint64_t head) {
    CHECK(plan.recovered);
    CHECK(plan.replay);
    CHECK(plan.replay_after == after);
    CHECK(plan.offset == head);
}

void check_nothing_to_replay(resume_plan const& plan, std::uint64_t head) {
    CHECK(plan.recovered);
    CHECK_FALSE(plan.replay);
    CHECK(plan.offset == head);
}

}  // namespace

TEST_CASE("publish answers the offsets of every channel part, in order", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    auto const first = publish_ok(hub, record_event("c", "r1", 100));
    CHECK(first.published == std::vector<channel_offset>{{collection_c, 1}, {bucket_b, 1}, {firehose, 1}});
    CHECK(first.error.empty());

    auto const second = publish_ok(hub, list_of({record_event("d", "r1", 200), record_event("c", "r2", 300)}));
    CHECK(second.published == std::vector<channel_offset>{{collection_d, 1}, {bucket_b, 2}, {firehose, 2},
                                                          {collection_c, 2}, {bucket_b, 3}, {firehose, 3}});
    CHECK(store.span(collection_c).last == 2);
    CHECK(store.span(bucket_b).last == 3);
}

TEST_CASE("each shard receives one batch per transaction, in order", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    shard_log one, two;
    hub.add_shard(one.sink());
    hub.add_shard(two.sink());

    publish_ok(hub, list_of({record_event("c", "r1", 100), record_event("d", "r2", 200)}));
    publish_ok(hub, record_event("c", "r3", 300));

    pairs const first = {{collection_c, 1}, {bucket_b, 1}, {firehose, 1},
                         {collection_d, 1}, {bucket_b, 2}, {firehose, 2}};
    pairs const second = {{collection_c, 2}, {bucket_b, 3}, {firehose, 3}};
    REQUIRE(one.batches.size() == 2);
    CHECK(one.batches[0] == first);
    CHECK(one.batches[1] == second);
    CHECK(two.batches == one.batches);
    // Every shard gets the same shared batch.
    CHECK(one.raw[0].get() == two.raw[0].get());

    // The messages carry the frames clients get.
    auto const& m = one.raw[1]->at(0);
    auto const frame = ordered::parse(m->frame());
    CHECK(frame["type"] == "event");
    CHECK(frame["channel"] == collection_c);
    CHECK(frame["offset"] == 2);
    CHECK(frame["timestamp"] == 300);
    CHECK(m->timestamp == 300);
    CHECK(frame["payload"]["record_id"] == "r3");
    CHECK(frame["impacted_objects"][0]["new"]["id"] == "r3");
}

TEST_CASE("a retried request stores nothing, answers the first offsets and sends no batch", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    shard_log shard;
    hub.add_shard(shard.sink());

    auto const body = list_of({record_event("c", "r1", 100), record_event("d", "r2", 200)});
    auto const first = publish_ok(hub, body);
    auto const retry = publish_ok(hub, body);
    CHECK(retry.published == first.published);
    CHECK(shard.batches.size() == 1);
    CHECK(store.span(collection_c).last == 1);
    CHECK(store.span(collection_d).last == 1);
    CHECK(store.span(bucket_b).last == 2);
    CHECK(store.span(firehose).last == 2);

    // The same event alone, with fields outside its identity changed, is still a duplicate.
    auto single = record_event("d", "r2", 200);
    single["payload"]["user_id"] = "account:bob";
    auto const again = publish_ok(hub, single);
    CHECK(again.published == std::vector<channel_offset>{{collection_d, 1}, {bucket_b, 2}, {firehose, 2}});
    CHECK(shard.batches.size() == 1);
    CHECK(store.span(firehose).last == 2);
}

TEST_CASE("a request mixing new and known events stores only the new ones", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    shard_log shard;
    hub.add_shard(shard.sink());

    publish_ok(hub, record_event("c", "r1", 100));
    auto const mixed = publish_ok(hub, list_of({record_event("c", "r1", 100), record_event("c", "r2", 200)}));
    CHECK(mixed.published == std::vector<channel_offset>{{collection_c, 1}, {bucket_b, 1}, {firehose, 1},
                                                         {collection_c, 2}, {bucket_b, 2}, {firehose, 2}});
    REQUIRE(shard.batches.size() == 2);
    CHECK(shard.batches[1] == pairs{{collection_c, 2}, {bucket_b, 2}, {firehose, 2}});
    CHECK(store.span(collection_c).last == 2);
    auto const held = store.read(collection_c, 0, 10);
    REQUIRE(held.size() == 2);
    CHECK(ordered::parse(held[1].body)["payload"]["record_id"] == "r2");
}

TEST_CASE("a bad request stores nothing and sends nothing", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    shard_log shard;
    hub.add_shard(shard.sink());

    auto bad = record_event("d", "r2", 200);
    bad["payload"]["action"] = "read";
    auto const result = hub.publish(list_of({record_event("c", "r1", 100), bad}));
    CHECK(result.outcome == publish_result::status::bad_request);
    CHECK(result.error == "events[1].payload.action: must be one of create, update, delete");
    CHECK(result.published.empty());
    CHECK(shard.batches.empty());
    for (auto const& channel : {collection_c, collection_d, bucket_b, firehose}) {
        CAPTURE(channel);
        CHECK(store.span(channel).last == 0);
    }
    CHECK(store.channels_with_prefix("/").empty());

    // The good event was not remembered as published either.
    auto const later = publish_ok(hub, record_event("c", "r1", 100));
    CHECK(later.published.front() == channel_offset{collection_c, 1});
    CHECK(shard.batches.size() == 1);

    CHECK(hub.publish(ordered::array()).outcome == publish_result::status::bad_request);
    CHECK(hub.publish(ordered::parse(R"({"events": []})")).outcome == publish_result::status::bad_request);
    CHECK(shard.batches.size() == 1);
}

TEST_CASE("publish_all stores the valid bodies together and answers each body on its own", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    shard_log shard;
    hub.add_shard(shard.sink());
    publish_ok(hub, record_event("c", "r0", 50));

    auto bad = record_event("d", "r9", 900);
    bad["payload"].erase("uri");
    ordered const first = record_event("c", "r1", 100);
    ordered const retry = record_event("c", "r0", 50);
    ordered const second = list_of({record_event("d", "r2", 200), record_event("c", "r3", 300)});
    auto const results = hub.publish_all({&first, &bad, &retry, &second});
    REQUIRE(results.size() == 4);

    CHECK(results[0].outcome == publish_result::status::ok);
    CHECK(results[0].published == std::vector<channel_offset>{{collection_c, 2}, {bucket_b, 2}, {firehose, 2}});
    CHECK(results[1].outcome == publish_result::status::bad_request);
    CHECK(results[1].error == "payload.uri: is required");
    CHECK(results[1].published.empty());
    CHECK(results[2].outcome == publish_result::status::ok);
    CHECK(results[2].published == std::vector<channel_offset>{{collection_c, 1}, {bucket_b, 1}, {firehose, 1}});
    CHECK(results[3].outcome == publish_result::status::ok);
    CHECK(results[3].published == std::vector<channel_offset>{{collection_d, 1}, {bucket_b, 3}, {firehose, 3},
                                                              {collection_c, 3}, {bucket_b, 4}, {firehose, 4}});
    // One batch per stored transaction, in offset order; none for the duplicate or the bad body.
    REQUIRE(shard.batches.size() == 3);
    CHECK(shard.batches[1] == pairs{{collection_c, 2}, {bucket_b, 2}, {firehose, 2}});
    CHECK(shard.batches[2] == pairs{{collection_d, 1}, {bucket_b, 3}, {firehose, 3},
                                    {collection_c, 3}, {bucket_b, 4}, {firehose, 4}});
    CHECK(store.span(firehose).last == 4);

    CHECK(hub.publish_all({}).empty());
    auto const only_bad = hub.publish_all({&bad});
    REQUIRE(only_bad.size() == 1);
    CHECK(only_bad[0].outcome == publish_result::status::bad_request);
    CHECK(shard.batches.size() == 3);
}

TEST_CASE("a bucket delete reaches collection channels with history or local subscribers", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    publish_ok(hub, record_event("c", "r1", 100));       // collection c has history
    hub.subscribed("/buckets/b/collections/live");        // live only has a subscriber here
    hub.subscribed("/buckets/b/collections/gone");
    hub.unsubscribed("/buckets/b/collections/gone");
    hub.subscribed("/buckets/other/collections/x");       // another bucket
    hub.subscribed("/buckets/bb/collections/x");          // a bucket whose id starts with "b"

    auto const result = publish_ok(hub, bucket_delete_event("b", 5000));
    auto published = result.published;
    std::sort(published.begin(), published.end(),
              [](channel_offset const& a, channel_offset const& b) { return a.channel < b.channel; });
    CHECK(published == std::vector<channel_offset>{{firehose, 2},
                                                   {bucket_b, 2},
                                                   {collection_c, 2},
                                                   {"/buckets/b/collections/live", 1}});
    auto const held = store.read("/buckets/b/collections/live", 0, 10);
    REQUIRE(held.size() == 1);
    CHECK(held[0].timestamp == 5000);
    CHECK(ordered::parse(held[0].body)["payload"]["resource_name"] == "bucket");

    // Subscriptions are counted: one of two leaving keeps the channel known.
    hub.subscribed("/buckets/z/collections/q");
    hub.subscribed("/buckets/z/collections/q");
    hub.unsubscribed("/buckets/z/collections/q");
    auto const z = publish_ok(hub, bucket_delete_event("z", 6000));
    CHECK(std::count(z.published.begin(), z.published.end(), channel_offset{"/buckets/z/collections/q", 1}) == 1);
    hub.unsubscribed("/buckets/z/collections/q");
    hub.subscribed("/buckets/y/collections/q");
    hub.unsubscribed("/buckets/y/collections/q");
    auto const y = publish_ok(hub, bucket_delete_event("y", 7000));
    CHECK(y.published == std::vector<channel_offset>{{"/buckets/y", 1}, {firehose, 4}});
}

TEST_CASE("subscriber_count and subscribed_with_prefix follow subscribed/unsubscribed", "[hub]") {
    kp::store::memory_store store(kp::store::retention{});
    channel_hub hub(store, 1000);
    CHECK(hub.subscriber_count("/buckets/a") == 0);
    hub.subscribed("/buckets/a");
    hub.subscribed("/buckets/a");
    hub.subscribed("/buckets/a/collections/c");
    hub.subscribed("/buckets/ab");
    CHECK(hub.subscriber_count("/buckets/a") == 2);
    CHECK(hub.subscriber_count("/buckets/a/collections/c") == 1);
    CHECK(hub.subscriber_count("/buckets") == 0);
    auto names = hub.subscribed_with_prefix("/buckets/a/");
    CHECK(names == std::vector<std::string>{"/buckets/a/collections/c"});
    names = hub.subscribed_with_prefix("/buckets/a");
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"/buckets/a", "/buckets/a/collections/c", "/buckets/ab"});
    hub.unsubscribed("/buckets/a");
    CHECK(hub.subscriber_count("/buckets/a") == 1);
    hub.unsubscribed("/buckets/a");
    CHECK(hub.subscriber_count("/buckets/a") == 0);
    CHECK(hub.subscribed_with_prefix("/buckets/a/").size() == 1);
    CHECK(hub.subscribed_with_prefix("/buckets/a").size() == 2);
}

TEST_CASE("plan_live starts at the channel's head with nothing to replay", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    auto plan = hub.plan_live(collection_c);
    CHECK(plan.epoch == store.epoch());
    check_nothing_to_replay(plan, 0);
    fill(hub, 3);
    plan = hub.plan_live(collection_c);
    CHECK(plan.epoch == store.epoch());
    check_nothing_to_replay(plan, 3);
}

TEST_CASE("plan_from: by offset within one epoch", "[hub]") {
    memory_store store(retention{5, 86'400'000});
    channel_hub hub(store, 3);
    std::string const epoch = store.epoch();
    fill(hub, 3);

    SECTION("within history") {
        check_replay(hub.plan_from(collection_c, since_position{epoch, 1}), 1, 3);
        check_replay(hub.plan_from(collection_c, since_position{epoch, 0}), 0, 3);
        auto const plan = hub.plan_from(collection_c, since_position{epoch, 2});
        check_replay(plan, 2, 3);
        CHECK(plan.epoch == epoch);
    }
    SECTION("at the head: recovered, nothing to replay") {
        check_nothing_to_replay(hub.plan_from(collection_c, since_position{epoch, 3}), 3);
        check_nothing_to_replay(hub.plan_from("/buckets/b/collections/empty", since_position{epoch, 0}), 0);
    }
    SECTION("another epoch") {
        std::string other = epoch;
        other[0] = other[0] == 'a' ? 'b' : 'a';
        check_not_recovered(hub.plan_from(collection_c, since_position{other, 1}), epoch, 3);
        check_not_recovered(hub.plan_from(collection_c, since_position{other, 3}), epoch, 3);
        check_not_recovered(hub.plan_from(collection_c, since_position{"", 0}), epoch, 3);
    }
    SECTION("beyond the head") {
        check_not_recovered(hub.plan_from(collection_c, since_position{epoch, 4}), epoch, 3);
        check_not_recovered(hub.plan_from(collection_c, since_position{epoch, 1000}), epoch, 3);
        check_not_recovered(hub.plan_from("/buckets/b/collections/empty", since_position{epoch, 1}), epoch, 0);
    }
    SECTION("older than the history") {
        fill(hub, 8);   // 8 events, 5 kept: offsets 4..8
        REQUIRE(store.span(collection_c).first == 4);
        check_not_recovered(hub.plan_from(collection_c, since_position{epoch, 0}), epoch, 8);
        check_not_recovered(hub.plan_from(collection_c, since_position{epoch, 2}), epoch, 8);
        check_replay(hub.plan_from(collection_c, since_position{epoch, 5}), 5, 8);   // 6..8: held, 3 <= max
    }
    SECTION("more than max_replay events") {
        fill(hub, 5);   // 5 events, max_replay 3
        check_not_recovered(hub.plan_from(collection_c, since_position{epoch, 1}), epoch, 5);   // 4 events
        check_replay(hub.plan_from(collection_c, since_position{epoch, 2}), 2, 5);             // exactly 3
    }
}

TEST_CASE("plan_history: GET /v1/history's answer follows plan_from's rule, without the replay limit", "[hub]") {
    memory_store store(retention{5, 86'400'000});
    channel_hub hub(store, 2);   // a replay limit of 2, which the history endpoint does not apply
    std::string const epoch = store.epoch();
    std::string other = epoch;
    other[0] = other[0] == 'a' ? 'b' : 'a';
    fill(hub, 3);

    SECTION("within history, with or without the epoch: every event after since") {
        check_replay(hub.plan_history(collection_c, 0, std::nullopt), 0, 3);   // 3 events > limit 2
        check_replay(hub.plan_history(collection_c, 0, epoch), 0, 3);
        check_replay(hub.plan_history(collection_c, 2, std::nullopt), 2, 3);
        CHECK(hub.plan_history(collection_c, 1, std::nullopt).epoch == epoch);
        CHECK_FALSE(hub.plan_from(collection_c, since_position{epoch, 0}).recovered);   // the limit applies there
    }
    SECTION("at the head: recovered, nothing to read") {
        check_nothing_to_replay(hub.plan_history(collection_c, 3, std::nullopt), 3);
        check_nothing_to_replay(hub.plan_history(collection_c, 3, epoch), 3);
        check_nothing_to_replay(hub.plan_history("/buckets/b/collections/empty", 0, std::nullopt), 0);
    }
    SECTION("another epoch, even at the head or empty") {
        check_not_recovered(hub.plan_history(collection_c, 1, other), epoch, 3);
        check_not_recovered(hub.plan_history(collection_c, 3, other), epoch, 3);
        check_not_recovered(hub.plan_history(collection_c, 0, std::string()), epoch, 3);
        check_not_recovered(hub.plan_history("/buckets/b/collections/empty", 0, other), epoch, 0);
    }
    SECTION("beyond the head") {
        check_not_recovered(hub.plan_history(collection_c, 4, std::nullopt), epoch, 3);
        check_not_recovered(hub.plan_history(collection_c, 4, epoch), epoch, 3);
        check_not_recovered(hub.plan_history("/buckets/b/collections/empty", 1, std::nullopt), epoch, 0);
    }
    SECTION("older than the history: the oldest held event must directly follow since") {
        fill(hub, 8);   // 8 events, 5 kept: offsets 4..8
        REQUIRE(store.span(collection_c).first == 4);
        check_not_recovered(hub.plan_history(collection_c, 0, std::nullopt), epoch, 8);
        check_not_recovered(hub.plan_history(collection_c, 2, std::nullopt), epoch, 8);
        check_replay(hub.plan_history(collection_c, 3, std::nullopt), 3, 8);   // 4..8: all held, 5 > limit 2
        check_replay(hub.plan_history(collection_c, 7, epoch), 7, 8);
        // plan_from decides the same where the limit does not matter.
        CHECK_FALSE(hub.plan_from(collection_c, since_position{epoch, 2}).recovered);
        check_replay(hub.plan_from(collection_c, since_position{epoch, 7}), 7, 8);
    }
}

TEST_CASE("plan_from_position: replay from the first event with timestamp > T", "[hub]") {
    SECTION("never trimmed") {
        memory_store store(retention{5, 86'400'000});
        channel_hub hub(store, 10000);
        fill(hub, 3);   // timestamps 100, 200, 300
        check_replay(by_timestamp(hub, collection_c, 150), 1, 3);
        check_replay(by_timestamp(hub, collection_c, 100), 1, 3);
        check_replay(by_timestamp(hub, collection_c, 99), 0, 3);
        check_replay(by_timestamp(hub, collection_c, 0), 0, 3);   // older than everything, never trimmed
        check_nothing_to_replay(by_timestamp(hub, collection_c, 300), 3);
        check_nothing_to_replay(by_timestamp(hub, collection_c, 1'000'000), 3);
        check_nothing_to_replay(by_timestamp(hub, "/buckets/b/collections/empty", 5), 0);
        CHECK(by_timestamp(hub, collection_c, 150).epoch == store.epoch());
    }
    SECTION("trimmed: covered while an event with timestamp <= T is held") {
        memory_store store(retention{3, 86'400'000});
        channel_hub hub(store, 10000);
        fill(hub, 5);   // held: offsets 3, 4, 5 with timestamps 300, 400, 500
        REQUIRE(store.span(collection_c).first == 3);
        check_replay(by_timestamp(hub, collection_c, 350), 3, 5);
        check_replay(by_timestamp(hub, collection_c, 300), 3, 5);
        check_nothing_to_replay(by_timestamp(hub, collection_c, 500), 5);
        check_not_recovered(by_timestamp(hub, collection_c, 250), store.epoch(), 5);
        check_not_recovered(by_timestamp(hub, collection_c, 0), store.epoch(), 5);
    }
    SECTION("a batch's later event may carry older timestamps: the replay includes every later event") {
        memory_store store(retention{}, 100);
        channel_hub hub(store, 10000);
        publish_ok(hub, list_of({record_event("c", "r1", 500), record_event("c", "r2", 100),
                                 record_event("c", "r3", 200)}));
        check_replay(by_timestamp(hub, collection_c, 150), 0, 3);
        check_nothing_to_replay(by_timestamp(hub, collection_c, 500), 3);
    }
    SECTION("more than max_replay events") {
        memory_store store(retention{});
        channel_hub hub(store, 2);
        fill(hub, 4);
        check_not_recovered(by_timestamp(hub, collection_c, 100), store.epoch(), 4);   // 3 events
        check_replay(by_timestamp(hub, collection_c, 200), 2, 4);                      // 2 events
    }
}

TEST_CASE("read returns stored events as messages, in order, at most limit", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    fill(hub, 4);
    auto const all = hub.read(collection_c, 0, 100);
    REQUIRE(all.size() == 4);
    for (std::size_t i = 0; i < all.size(); ++i) {
        CHECK(all[i]->channel == collection_c);
        CHECK(all[i]->offset == i + 1);
        CHECK(all[i]->timestamp == static_cast<std::int64_t>(100 * (i + 1)));
        auto const frame = ordered::parse(all[i]->frame());
        CHECK(frame["offset"] == i + 1);
        CHECK(frame["payload"]["record_id"] == "r" + std::to_string(i + 1));
    }
    auto const some = hub.read(collection_c, 1, 2);
    REQUIRE(some.size() == 2);
    CHECK(some[0]->offset == 2);
    CHECK(some[1]->offset == 3);
    CHECK(hub.read(collection_c, 4, 10).empty());
    CHECK(hub.read("/buckets/b/collections/empty", 0, 10).empty());

    // The bucket channel's messages are the same events.
    auto const bucket = hub.read(bucket_b, 2, 1);
    REQUIRE(bucket.size() == 1);
    CHECK(ordered::parse(bucket[0]->frame())["payload"]["record_id"] == "r3");
    CHECK(&hub.history() == &store);
}

TEST_CASE("the publish observer sees each stored transaction once, after the shards, and nothing else", "[hub]") {
    memory_store store(retention{});
    channel_hub hub(store, 10000);
    shard_log shard;
    hub.add_shard(shard.sink());
    std::vector<pairs> observed;
    std::size_t batches_at_observe = 0;
    hub.set_publish_observer([&](std::vector<kp::channels::message_ptr> const& messages) {
        batches_at_observe = shard.batches.size();
        auto& out = observed.emplace_back();
        for (auto const& m : messages) out.emplace_back(m->channel, m->offset);
    });

    auto const body = list_of({record_event("c", "r1", 100), record_event("d", "r2", 200)});
    publish_ok(hub, body);
    REQUIRE(observed.size() == 1);
    CHECK(observed[0] == shard.batches[0]);   // the same messages, in the same order
    CHECK(batches_at_observe == 1);           // the shards got them first
    publish_ok(hub, body);                    // a retry: nothing stored, nothing observed
    CHECK(observed.size() == 1);
    CHECK(hub.publish(ordered::parse(R"({"payload": {}})")).outcome == publish_result::status::bad_request);
    CHECK(observed.size() == 1);
    publish_ok(hub, record_event("c", "r3", 300));
    REQUIRE(observed.size() == 2);
    CHECK(observed[1] == pairs{{collection_c, 2}, {bucket_b, 3}, {firehose, 3}});
}
