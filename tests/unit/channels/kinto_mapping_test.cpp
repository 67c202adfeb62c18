// channels::kinto_mapping: Kinto events (PROTOCOL.md section 2, KINTO-NOTES.md 1.6) to the
// parts each channel stores (PROTOCOL.md section 1).

#include "channels/kinto_mapping.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <variant>
#include <vector>

using kp::channels::kinto_mapping;
using kp::channels::mapping_error;
using kp::store::append_entry;
using kp::store::append_event;
using ordered = nlohmann::ordered_json;
using plain = nlohmann::json;   // order-insensitive comparison of JSON values

namespace {

using mapped = std::variant<std::vector<append_event>, mapping_error>;

std::vector<append_event> map_ok(kinto_mapping const& mapping, ordered const& body) {
    mapped result = mapping.map(body);
    if (auto const* error = std::get_if<mapping_error>(&result)) FAIL("unexpected mapping error: " << error->message);
    return std::get<std::vector<append_event>>(result);
}

std::vector<append_event> map_ok(kinto_mapping const& mapping, char const* text) {
    return map_ok(mapping, ordered::parse(text));
}

std::string map_error(kinto_mapping const& mapping, ordered const& body) {
    mapped result = mapping.map(body);
    if (std::holds_alternative<std::vector<append_event>>(result)) FAIL("expected a mapping error for " << body.dump());
    return std::get<mapping_error>(result).message;
}

std::vector<std::string> channels_of(append_event const& event) {
    std::vector<std::string> out;
    for (auto const& entry : event.entries) out.push_back(entry.channel);
    return out;
}

append_entry const& entry_for(append_event const& event, std::string const& channel) {
    auto it = std::find_if(event.entries.begin(), event.entries.end(),
                           [&](append_entry const& e) { return e.channel == channel; });
    if (it == event.entries.end()) FAIL("no entry for channel " << channel);
    return *it;
}

// The ids of the impacted objects a stored body carries, in order (new.id, else old.id).
std::vector<std::string> impacted_ids(append_entry const& entry) {
    std::vector<std::string> ids;
    plain const body = plain::parse(entry.body);
    for (auto const& o : body.at("impacted_objects")) {
        if (o.contains("new")) ids.push_back(o["new"]["id"].get<std::string>());
        else ids.push_back(o["old"]["id"].get<std::string>());
    }
    return ids;
}

kinto_mapping no_known_collections() {
    return kinto_mapping([](std::string const&) { return std::vector<std::string>{}; });
}

// Examples as Kinto builds them (KINTO-NOTES.md section 1.6).
constexpr char const* record_create_put = R"({
 "payload": {"timestamp": 1717000000123, "action": "create",
             "uri": "/buckets/blog/collections/articles/records/r1",
             "user_id": "account:alice", "resource_name": "record",
             "bucket_id": "blog", "collection_id": "articles", "record_id": "r1"},
 "impacted_objects": [{"new": {"id": "r1", "last_modified": 1717000000123, "title": "Hello"}}]})";

constexpr char const* record_update = R"({
 "payload": {"timestamp": 1717000000456, "action": "update",
             "uri": "/buckets/blog/collections/articles/records/r1",
             "user_id": "account:alice", "resource_name": "record",
             "bucket_id": "blog", "collection_id": "articles", "record_id": "r1"},
 "impacted_objects": [{"new": {"id": "r1", "last_modified": 1717000000456, "title": "Hello v2"},
                       "old": {"id": "r1", "last_modified": 1717000000123, "title": "Hello"}}]})";

constexpr char const* record_delete = R"({
 "payload": {"timestamp": 1717000000789, "action": "delete",
             "uri": "/buckets/blog/collections/articles/records/r1",
             "user_id": "account:alice", "resource_name": "record",
             "bucket_id": "blog", "collection_id": "articles", "record_id": "r1"},
 "impacted_objects": [{"new": {"last_modified": 1717000000789, "id": "r1", "deleted": true},
                       "old": {"id": "r1", "last_modified": 1717000000456, "title": "Hello v2"}}]})";

// Three POSTs merged into one create event by a batch: the payload is the first sub-request's.
constexpr char const* record_create_post_plural = R"({
 "payload": {"timestamp": 1717000000100, "action": "create",
             "uri": "/buckets/blog/collections/articles/records",
             "user_id": "account:alice", "resource_name": "record",
             "bucket_id": "blog", "collection_id": "articles"},
 "impacted_objects": [{"new": {"id": "a1", "last_modified": 1717000000100, "title": "A"}},
                      {"new": {"id": "a3", "last_modified": 1717000000300, "title": "C"}},
                      {"new": {"id": "a2", "last_modified": 1717000000200, "title": "B"}}]})";

constexpr char const* record_delete_plural = R"({
 "payload": {"timestamp": 1717000002001, "action": "delete",
             "uri": "/buckets/blog/collections/articles/records",
             "user_id": "account:alice", "resource_name": "record",
             "bucket_id": "blog", "collection_id": "articles"},
 "impacted_objects": [
   {"new": {"id": "r2", "last_modified": 1717000002000, "deleted": true},
    "old": {"id": "r2", "last_modified": 1717000001500, "title": "B"}},
   {"new": {"id": "r3", "last_modified": 1717000002001, "deleted": true},
    "old": {"id": "r3", "last_modified": 1717000001400, "title": "C"}}]})";

constexpr char const* collection_create_put = R"({
 "payload": {"timestamp": 1716999999001, "action": "create",
             "uri": "/buckets/blog/collections/articles",
             "user_id": "account:alice", "resource_name": "collection",
             "bucket_id": "blog", "collection_id": "articles"},
 "impacted_objects": [{"new": {"id": "articles", "last_modified": 1716999999001}}]})";

constexpr char const* collection_delete_plural = R"({
 "payload": {"timestamp": 1717000003000, "action": "delete",
             "uri": "/buckets/blog/collections",
             "user_id": "account:alice", "resource_name": "collection", "bucket_id": "blog"},
 "impacted_objects": [
   {"new": {"id": "c1", "last_modified": 1717000003000, "deleted": true},
    "old": {"id": "c1", "last_modified": 1717000000010}},
   {"new": {"id": "c2", "last_modified": 1717000003005, "deleted": true},
    "old": {"id": "c2", "last_modified": 1717000000020}},
   {"new": {"id": "c1", "last_modified": 1717000003001, "deleted": true},
    "old": {"id": "c1", "last_modified": 1717000003000}}]})";

constexpr char const* bucket_create_put = R"({
 "payload": {"timestamp": 1716999990000, "action": "create", "uri": "/buckets/blog",
             "user_id": "account:alice", "resource_name": "bucket", "bucket_id": "blog"},
 "impacted_objects": [{"new": {"id": "blog", "last_modified": 1716999990000}}]})";

constexpr char const* bucket_create_post = R"({
 "payload": {"timestamp": 1716999990000, "action": "create", "uri": "/buckets",
             "user_id": "account:alice", "resource_name": "bucket"},
 "impacted_objects": [{"new": {"id": "fresh", "last_modified": 1716999990000}}]})";

constexpr char const* bucket_delete = R"({
 "payload": {"timestamp": 1717000100000, "action": "delete", "uri": "/buckets/blog",
             "user_id": "account:alice", "resource_name": "bucket", "bucket_id": "blog"},
 "impacted_objects": [{"new": {"last_modified": 1717000100000, "id": "blog", "deleted": true},
                       "old": {"id": "blog", "last_modified": 1716999990000}}]})";

constexpr char const* bucket_delete_plural = R"({
 "payload": {"timestamp": 1717000200000, "action": "delete", "uri": "/buckets",
             "user_id": "account:admin", "resource_name": "bucket"},
 "impacted_objects": [
   {"new": {"id": "b1", "last_modified": 1717000200000, "deleted": true},
    "old": {"id": "b1", "last_modified": 1716000000001}},
   {"new": {"id": "b2", "last_modified": 1717000200007, "deleted": true},
    "old": {"id": "b2", "last_modified": 1716000000002}}]})";

constexpr char const* group_update = R"({
 "payload": {"timestamp": 1717000300000, "action": "update", "uri": "/buckets/blog/groups/editors",
             "user_id": "account:alice", "resource_name": "group",
             "bucket_id": "blog", "group_id": "editors"},
 "impacted_objects": [{"new": {"id": "editors", "last_modified": 1717000300000, "members": ["account:bob"]},
                       "old": {"id": "editors", "last_modified": 1717000200000, "members": []}}]})";

constexpr char const* account_create = R"({
 "payload": {"timestamp": 1717000400000, "action": "create", "uri": "/accounts/carol",
             "user_id": null, "resource_name": "account", "account_id": "carol"},
 "impacted_objects": [{"new": {"id": "carol", "last_modified": 1717000400000}}]})";

std::vector<std::string> const record_channels = {"/buckets/blog/collections/articles", "/buckets/blog",
                                                  "/buckets"};

}  // namespace

TEST_CASE("single record create, update and delete go to the collection, the bucket and the firehose",
          "[mapping]") {
    auto const mapping = no_known_collections();
    struct sample {
        char const* text;
        std::int64_t timestamp;
    };
    for (auto const& [text, timestamp] : {sample{record_create_put, 1717000000123},
                                          sample{record_update, 1717000000456},
                                          sample{record_delete, 1717000000789}}) {
        CAPTURE(text);
        auto const events = map_ok(mapping, text);
        REQUIRE(events.size() == 1);
        CHECK(channels_of(events[0]) == record_channels);
        CHECK_FALSE(events[0].dedupe_key.empty());
        for (auto const& entry : events[0].entries) {
            CAPTURE(entry.channel);
            CHECK(entry.timestamp == timestamp);
            // One object concerns every channel: each stores the whole event.
            CHECK(plain::parse(entry.body) == plain::parse(text));
        }
    }
}

TEST_CASE("a stored body puts payload first, then impacted_objects", "[mapping]") {
    auto const events = map_ok(no_known_collections(), R"({
      "impacted_objects": [{"new": {"id": "r1", "last_modified": 5}}],
      "trace": "t-1",
      "payload": {"timestamp": 5, "action": "create", "uri": "/buckets/b/collections/c/records/r1",
                  "resource_name": "record", "bucket_id": "b", "collection_id": "c", "record_id": "r1"}})");
    REQUIRE(events.size() == 1);
    for (auto const& entry : events[0].entries) {
        auto const body = ordered::parse(entry.body);
        std::vector<std::string> keys;
        for (auto it = body.begin(); it != body.end(); ++it) keys.push_back(it.key());
        CHECK(keys == std::vector<std::string>{"payload", "impacted_objects", "trace"});
    }
}

TEST_CASE("plural record create (POST, no record_id) keeps every object on every channel", "[mapping]") {
    auto const events = map_ok(no_known_collections(), record_create_post_plural);
    REQUIRE(events.size() == 1);
    CHECK(channels_of(events[0]) == record_channels);
    for (auto const& entry : events[0].entries) {
        CAPTURE(entry.channel);
        CHECK(impacted_ids(entry) == std::vector<std::string>{"a1", "a3", "a2"});
        // The largest new.last_modified, not the first sub-request's payload.timestamp.
        CHECK(entry.timestamp == 1717000000300);
        CHECK(plain::parse(entry.body) == plain::parse(record_create_post_plural));
    }
}

TEST_CASE("plural record delete keeps every tombstone and takes the largest last_modified", "[mapping]") {
    auto const events = map_ok(no_known_collections(), record_delete_plural);
    REQUIRE(events.size() == 1);
    CHECK(channels_of(events[0]) == record_channels);
    for (auto const& entry : events[0].entries) {
        CAPTURE(entry.channel);
        CHECK(impacted_ids(entry) == std::vector<std::string>{"r2", "r3"});
        CHECK(entry.timestamp == 1717000002001);
        auto const body = plain::parse(entry.body);
        CHECK(body["impacted_objects"][0]["new"]["deleted"] == true);
        CHECK(body["impacted_objects"][1]["old"]["title"] == "C");
    }
}

TEST_CASE("an events list is mapped to one stored event per Kinto event, in the order received",
          "[mapping]") {
    ordered body;
    body["events"] = ordered::array({ordered::parse(record_delete), ordered::parse(record_create_put),
                                     ordered::parse(collection_create_put), ordered::parse(record_update)});
    auto const events = map_ok(no_known_collections(), body);
    REQUIRE(events.size() == 4);
    std::vector<std::int64_t> timestamps;
    for (auto const& event : events) timestamps.push_back(event.entries.at(0).timestamp);
    // Kinto orders a batch by first appearance, not by timestamp: the order is kept as given.
    CHECK(timestamps == std::vector<std::int64_t>{1717000000789, 1717000000123, 1716999999001, 1717000000456});
    CHECK(plain::parse(events[0].entries[0].body)["payload"]["action"] == "delete");
    CHECK(plain::parse(events[1].entries[0].body)["payload"]["action"] == "create");
    CHECK(plain::parse(events[2].entries[0].body)["payload"]["resource_name"] == "collection");
    CHECK(plain::parse(events[3].entries[0].body)["payload"]["action"] == "update");
    // Distinct events have distinct identities.
    CHECK(events[0].dedupe_key != events[1].dedupe_key);
    CHECK(events[1].dedupe_key != events[3].dedupe_key);
    CHECK(events[0].dedupe_key != events[3].dedupe_key);
}

TEST_CASE("collection create with collection_id goes to that collection, its bucket and the firehose",
          "[mapping]") {
    auto const events = map_ok(no_known_collections(), collection_create_put);
    REQUIRE(events.size() == 1);
    CHECK(channels_of(events[0]) == record_channels);
    for (auto const& entry : events[0].entries) {
        CHECK(entry.timestamp == 1716999999001);
        CHECK(plain::parse(entry.body) == plain::parse(collection_create_put));
    }
}

TEST_CASE("collection create by POST takes the collection id from new.id", "[mapping]") {
    auto const events = map_ok(no_known_collections(), R"({
      "payload": {"timestamp": 1716999999500, "action": "create", "uri": "/buckets/blog/collections",
                  "user_id": "account:alice", "resource_name": "collection", "bucket_id": "blog"},
      "impacted_objects": [{"new": {"id": "drafts", "last_modified": 1716999999500}}]})");
    REQUIRE(events.size() == 1);
    CHECK(channels_of(events[0]) ==
          std::vector<std::string>{"/buckets/blog/collections/drafts", "/buckets/blog", "/buckets"});
}

TEST_CASE("plural collection delete is split per collection, bucket and firehose get all of it",
          "[mapping]") {
    auto const events = map_ok(no_known_collections(), collection_delete_plural);
    REQUIRE(events.size() == 1);
    auto const& event = events[0];
    CHECK(channels_of(event) == std::vector<std::string>{"/buckets/blog/collections/c1",
                                                         "/buckets/blog/collections/c2", "/buckets/blog",
                                                         "/buckets"});
    auto const& c1 = entry_for(event, "/buckets/blog/collections/c1");
    CHECK(impacted_ids(c1) == std::vector<std::string>{"c1", "c1"});
    CHECK(c1.timestamp == 1717000003001);
    auto const& c2 = entry_for(event, "/buckets/blog/collections/c2");
    CHECK(impacted_ids(c2) == std::vector<std::string>{"c2"});
    CHECK(c2.timestamp == 1717000003005);
    CHECK(plain::parse(c2.body)["payload"] == plain::parse(collection_delete_plural)["payload"]);
    for (char const* channel : {"/buckets/blog", "/buckets"}) {
        auto const& all = entry_for(event, channel);
        CHECK(impacted_ids(all) == std::vector<std::string>{"c1", "c2", "c1"});
        CHECK(all.timestamp == 1717000003005);
    }
}

TEST_CASE("bucket create goes to the bucket channel and the firehose, with no cascade", "[mapping]") {
    // Even with known collections: only a delete is cascaded.
    kinto_mapping const mapping([](std::string const&) {
        return std::vector<std::string>{"/buckets/blog/collections/articles"};
    });
    auto const put = map_ok(mapping, bucket_create_put);
    REQUIRE(put.size() == 1);
    CHECK(channels_of(put[0]) == std::vector<std::string>{"/buckets/blog", "/buckets"});
    CHECK(put[0].entries[0].timestamp == 1716999990000);

    auto const post = map_ok(mapping, bucket_create_post);
    REQUIRE(post.size() == 1);
    CHECK(channels_of(post[0]) == std::vector<std::string>{"/buckets/fresh", "/buckets"});
}

TEST_CASE("bucket delete is cascaded to the collection channels kinto-push knows", "[mapping]") {
    std::vector<std::string> asked;
    kinto_mapping const mapping([&](std::string const& bucket_id) {
        asked.push_back(bucket_id);
        if (bucket_id == "blog")
            return std::vector<std::string>{"/buckets/blog/collections/articles", "/buckets/blog/collections/drafts"};
        return std::vector<std::string>{};
    });
    auto const events = map_ok(mapping, bucket_delete);
    REQUIRE(events.size() == 1);
    auto channels = channels_of(events[0]);
    REQUIRE(channels.size() == 4);
    CHECK(channels.back() == "/buckets");
    CHECK(channels.front() != "/buckets");
    std::sort(channels.begin(), channels.end());
    CHECK(channels == std::vector<std::string>{"/buckets", "/buckets/blog", "/buckets/blog/collections/articles",
                                               "/buckets/blog/collections/drafts"});
    CHECK(asked == std::vector<std::string>{"blog"});
    for (auto const& entry : events[0].entries) {
        CAPTURE(entry.channel);
        CHECK(entry.timestamp == 1717000100000);
        CHECK(plain::parse(entry.body) == plain::parse(bucket_delete));
    }
}

TEST_CASE("plural bucket delete is split per bucket, each cascaded to its own collections", "[mapping]") {
    kinto_mapping const mapping([](std::string const& bucket_id) {
        if (bucket_id == "b1") return std::vector<std::string>{"/buckets/b1/collections/x"};
        return std::vector<std::string>{};
    });
    auto const events = map_ok(mapping, bucket_delete_plural);
    REQUIRE(events.size() == 1);
    auto const& event = events[0];
    auto channels = channels_of(event);
    REQUIRE(channels.size() == 4);
    CHECK(channels.back() == "/buckets");
    std::sort(channels.begin(), channels.end());
    CHECK(channels == std::vector<std::string>{"/buckets", "/buckets/b1", "/buckets/b1/collections/x", "/buckets/b2"});

    auto const& b1 = entry_for(event, "/buckets/b1");
    CHECK(impacted_ids(b1) == std::vector<std::string>{"b1"});
    CHECK(b1.timestamp == 1717000200000);
    auto const& x = entry_for(event, "/buckets/b1/collections/x");
    CHECK(impacted_ids(x) == std::vector<std::string>{"b1"});
    CHECK(x.timestamp == 1717000200000);
    auto const& b2 = entry_for(event, "/buckets/b2");
    CHECK(impacted_ids(b2) == std::vector<std::string>{"b2"});
    CHECK(b2.timestamp == 1717000200007);
    auto const& firehose = entry_for(event, "/buckets");
    CHECK(impacted_ids(firehose) == std::vector<std::string>{"b1", "b2"});
    CHECK(firehose.timestamp == 1717000200007);
}

// Kinto merges a batch's events per (resource, parent, action) and keeps the FIRST sub-request's
// payload (KINTO-NOTES.md 1.4): a batch that PUTs two collections of one bucket gives one event
// whose payload names only the first, with both objects impacted. PROTOCOL.md section 1: each
// channel receives the part that concerns it, so the second collection must get its object.
TEST_CASE("a batch-merged collection event is split by impacted object, not by the payload's id",
          "[mapping]") {
    auto const events = map_ok(no_known_collections(), R"({
      "payload": {"timestamp": 1717000005010, "action": "create", "uri": "/buckets/blog/collections/c1",
                  "user_id": "account:alice", "resource_name": "collection",
                  "bucket_id": "blog", "collection_id": "c1"},
      "impacted_objects": [{"new": {"id": "c1", "last_modified": 1717000005010}},
                           {"new": {"id": "c2", "last_modified": 1717000005020}}]})");
    REQUIRE(events.size() == 1);
    CHECK(channels_of(events[0]) == std::vector<std::string>{"/buckets/blog/collections/c1",
                                                             "/buckets/blog/collections/c2", "/buckets/blog",
                                                             "/buckets"});
    auto const& c1 = entry_for(events[0], "/buckets/blog/collections/c1");
    CHECK(impacted_ids(c1) == std::vector<std::string>{"c1"});
    CHECK(c1.timestamp == 1717000005010);
    auto const& c2 = entry_for(events[0], "/buckets/blog/collections/c2");
    CHECK(impacted_ids(c2) == std::vector<std::string>{"c2"});
    CHECK(c2.timestamp == 1717000005020);
    CHECK(impacted_ids(entry_for(events[0], "/buckets/blog")) == std::vector<std::string>{"c1", "c2"});
}

// The same merge for buckets: DELETE /buckets/b1 and DELETE /buckets/b2 in one batch give one
// delete event whose payload names b1 only. b2's channel and its known collections must get it.
TEST_CASE("a batch-merged bucket delete reaches every deleted bucket and its collections",
          "[mapping]") {
    kinto_mapping const mapping([](std::string const& bucket_id) {
        if (bucket_id == "b1") return std::vector<std::string>{"/buckets/b1/collections/x"};
        if (bucket_id == "b2") return std::vector<std::string>{"/buckets/b2/collections/y"};
        return std::vector<std::string>{};
    });
    auto const events = map_ok(mapping, R"({
      "payload": {"timestamp": 1717000006000, "action": "delete", "uri": "/buckets/b1",
                  "user_id": "account:admin", "resource_name": "bucket", "bucket_id": "b1"},
      "impacted_objects": [
        {"new": {"id": "b1", "last_modified": 1717000006000, "deleted": true},
         "old": {"id": "b1", "last_modified": 1716000000001}},
        {"new": {"id": "b2", "last_modified": 1717000006001, "deleted": true},
         "old": {"id": "b2", "last_modified": 1716000000002}}]})");
    REQUIRE(events.size() == 1);
    auto channels = channels_of(events[0]);
    std::sort(channels.begin(), channels.end());
    CHECK(channels == std::vector<std::string>{"/buckets", "/buckets/b1", "/buckets/b1/collections/x", "/buckets/b2",
                                               "/buckets/b2/collections/y"});
    CHECK(impacted_ids(entry_for(events[0], "/buckets/b1")) == std::vector<std::string>{"b1"});
    CHECK(impacted_ids(entry_for(events[0], "/buckets/b1/collections/x")) == std::vector<std::string>{"b1"});
    CHECK(impacted_ids(entry_for(events[0], "/buckets/b2")) == std::vector<std::string>{"b2"});
    CHECK(entry_for(events[0], "/buckets/b2").timestamp == 1717000006001);
    CHECK(impacted_ids(entry_for(events[0], "/buckets/b2/collections/y")) == std::vector<std::string>{"b2"});
    CHECK(impacted_ids(entry_for(events[0], "/buckets")) == std::vector<std::string>{"b1", "b2"});
}

TEST_CASE("group events go to the bucket channel and the firehose only", "[mapping]") {
    kinto_mapping const mapping([](std::string const&) {
        return std::vector<std::string>{"/buckets/blog/collections/articles"};
    });
    auto const events = map_ok(mapping, group_update);
    REQUIRE(events.size() == 1);
    CHECK(channels_of(events[0]) == std::vector<std::string>{"/buckets/blog", "/buckets"});
    for (auto const& entry : events[0].entries) {
        CHECK(entry.timestamp == 1717000300000);
        CHECK(plain::parse(entry.body) == plain::parse(group_update));
    }
}

TEST_CASE("events of other resources go to the firehose only", "[mapping]") {
    auto const events = map_ok(no_known_collections(), account_create);
    REQUIRE(events.size() == 1);
    CHECK(channels_of(events[0]) == std::vector<std::string>{"/buckets"});
    CHECK(events[0].entries[0].timestamp == 1717000400000);
    CHECK(plain::parse(events[0].entries[0].body) == plain::parse(account_create));

    // Even one that names a bucket: only the four known resources are mapped to bucket channels.
    auto const plugin = map_ok(no_known_collections(), R"({
      "payload": {"timestamp": 9, "action": "update", "uri": "/buckets/blog/history",
                  "resource_name": "history", "bucket_id": "blog"},
      "impacted_objects": []})");
    REQUIRE(plugin.size() == 1);
    CHECK(channels_of(plugin[0]) == std::vector<std::string>{"/buckets"});
}

TEST_CASE("unknown fields are kept in the stored body", "[mapping]") {
    char const* text = R"({
      "payload": {"timestamp": 1717000000456, "action": "update",
                  "uri": "/buckets/blog/collections/articles/records/r1",
                  "user_id": "account:alice", "resource_name": "record",
                  "bucket_id": "blog", "collection_id": "articles", "record_id": "r1",
                  "plugin_field": {"nested": [1, 2, 3]}},
      "impacted_objects": [{"new": {"id": "r1", "last_modified": 1717000000456, "schema": 12, "attachment": {"x": 1}},
                            "old": {"id": "r1", "last_modified": 1717000000123, "extra": null},
                            "diff": {"title": ["a", "b"]}}],
      "request_id": "req-17",
      "meta": {"source": "kinto-push-plugin"}})";
    auto const events = map_ok(no_known_collections(), text);
    REQUIRE(events.size() == 1);
    auto const original = plain::parse(text);
    for (auto const& entry : events[0].entries) {
        CAPTURE(entry.channel);
        auto const body = plain::parse(entry.body);
        CHECK(body["payload"]["plugin_field"] == original["payload"]["plugin_field"]);
        CHECK(body["impacted_objects"][0]["new"]["attachment"] == original["impacted_objects"][0]["new"]["attachment"]);
        CHECK(body["impacted_objects"][0]["new"]["schema"] == 12);
        CHECK(body["impacted_objects"][0]["old"].contains("extra"));
        CHECK(body["impacted_objects"][0]["diff"] == original["impacted_objects"][0]["diff"]);
        CHECK(body["request_id"] == "req-17");
        CHECK(body["meta"] == original["meta"]);
        CHECK(body == original);
    }

    // Also in a split part, and for each event of a list.
    ordered with_extra = ordered::parse(collection_delete_plural);
    with_extra["impacted_objects"][1]["note"] = "kept";
    with_extra["origin"] = "batch";
    with_extra["a \"quoted\"\tname \u00e9"] = 1;   // a member name that must be escaped
    ordered list;
    list["events"] = ordered::array({with_extra});
    auto const split = map_ok(no_known_collections(), list);
    REQUIRE(split.size() == 1);
    auto const c2 = plain::parse(entry_for(split[0], "/buckets/blog/collections/c2").body);
    CHECK(c2["impacted_objects"][0]["note"] == "kept");
    CHECK(c2["origin"] == "batch");
    auto const c1 = plain::parse(entry_for(split[0], "/buckets/blog/collections/c1").body);
    CHECK(c1["origin"] == "batch");
    CHECK(c1["a \"quoted\"\tname \u00e9"] == 1);
}

TEST_CASE("an event's parts come in the order collection, bucket, firehose", "[mapping]") {
    for (char const* text : {record_create_put, record_update, record_delete_plural, collection_create_put}) {
        CAPTURE(text);
        auto const events = map_ok(no_known_collections(), text);
        REQUIRE(events.size() == 1);
        CHECK(channels_of(events[0]) == record_channels);
    }
}

TEST_CASE("a part's timestamp is its largest new.last_modified, else payload.timestamp", "[mapping]") {
    SECTION("only old objects: payload.timestamp") {
        auto const events = map_ok(no_known_collections(), R"({
          "payload": {"timestamp": 777, "action": "delete", "uri": "/buckets/b/collections/c/records/r",
                      "resource_name": "record", "bucket_id": "b", "collection_id": "c", "record_id": "r"},
          "impacted_objects": [{"old": {"id": "r", "last_modified": 5}}]})");
        REQUIRE(events.size() == 1);
        for (auto const& entry : events[0].entries) CHECK(entry.timestamp == 777);
    }
    SECTION("no impacted objects: payload.timestamp") {
        auto const events = map_ok(no_known_collections(), R"({
          "payload": {"timestamp": 778, "action": "update", "uri": "/buckets/b/collections/c",
                      "resource_name": "collection", "bucket_id": "b", "collection_id": "c"},
          "impacted_objects": []})");
        REQUIRE(events.size() == 1);
        CHECK(channels_of(events[0]) == std::vector<std::string>{"/buckets/b/collections/c", "/buckets/b", "/buckets"});
        for (auto const& entry : events[0].entries) CHECK(entry.timestamp == 778);
    }
    SECTION("per part: a part whose objects have no new takes payload.timestamp") {
        auto const events = map_ok(no_known_collections(), R"({
          "payload": {"timestamp": 100, "action": "delete", "uri": "/buckets/b/collections",
                      "resource_name": "collection", "bucket_id": "b"},
          "impacted_objects": [{"new": {"id": "c1", "last_modified": 300, "deleted": true},
                                "old": {"id": "c1", "last_modified": 50}},
                               {"old": {"id": "c2", "last_modified": 900}}]})");
        REQUIRE(events.size() == 1);
        CHECK(entry_for(events[0], "/buckets/b/collections/c1").timestamp == 300);
        CHECK(entry_for(events[0], "/buckets/b/collections/c2").timestamp == 100);
        // old.last_modified never counts, even when larger.
        CHECK(entry_for(events[0], "/buckets/b").timestamp == 300);
        CHECK(entry_for(events[0], "/buckets").timestamp == 300);
    }
    SECTION("the largest, not the last, not the payload's") {
        auto const events = map_ok(no_known_collections(), R"({
          "payload": {"timestamp": 1, "action": "update", "uri": "/buckets/b/collections/c/records/r1",
                      "resource_name": "record", "bucket_id": "b", "collection_id": "c", "record_id": "r1"},
          "impacted_objects": [{"new": {"id": "r1", "last_modified": 20}, "old": {"id": "r1", "last_modified": 10}},
                               {"new": {"id": "r1", "last_modified": 40}, "old": {"id": "r1", "last_modified": 20}},
                               {"new": {"id": "r1", "last_modified": 30}, "old": {"id": "r1", "last_modified": 999}}]})");
        REQUIRE(events.size() == 1);
        for (auto const& entry : events[0].entries) CHECK(entry.timestamp == 40);
    }
}

TEST_CASE("dedupe_key is the same from one version to the next: fixed digests", "[mapping]") {
    // Stores keep the keys (SQLite, Redis): a retry across an upgrade must still find its key,
    // so any change of these digests is a break, whatever the reason. Each is the SHA-256 of
    // the JSON text [uri, action, resource_name, timestamp, [[id, last_modified], …]] (pairs
    // sorted, without repeats; new's pair, else old's), as nlohmann's dump() writes it; the
    // text is given with each, as sha256sum would check it.
    auto const mapping = no_known_collections();
    auto keys = [&](char const* body) {
        std::vector<std::string> out;
        for (auto const& event : map_ok(mapping, body)) out.push_back(event.dedupe_key);
        return out;
    };
    using keys_t = std::vector<std::string>;

    SECTION("an update with new and old: new's pair") {
        // ["/buckets/main/collections/cfr/records/r1","update","record",1717000000456,[["r1",1717000000456]]]
        CHECK(keys(R"({
          "payload": {"timestamp": 1717000000456, "action": "update",
                      "uri": "/buckets/main/collections/cfr/records/r1", "resource_name": "record",
                      "bucket_id": "main", "collection_id": "cfr", "record_id": "r1", "user_id": "account:alice"},
          "impacted_objects": [{"new": {"id": "r1", "last_modified": 1717000000456, "title": "b"},
                                "old": {"id": "r1", "last_modified": 1717000000123, "title": "a"}}]})") ==
              keys_t{"4183f1278cebecc564f7e384af841f9fa672329d4a2be6698fa739caf87da491"});
    }
    SECTION("members outside the identity, at every level, give the same key") {
        CHECK(keys(R"({
          "payload": {"timestamp": 1717000000456, "action": "update",
                      "uri": "/buckets/main/collections/cfr/records/r1", "resource_name": "record",
                      "bucket_id": "main", "collection_id": "cfr", "record_id": "r1", "user_id": "account:bob",
                      "extra": {"x": [1, 2]}},
          "impacted_objects": [{"new": {"id": "r1", "last_modified": 1717000000456, "schema": 3},
                                "old": {"id": "r1", "last_modified": 1717000000123}, "note": "n"}],
          "request_id": "abc"})") == keys_t{"4183f1278cebecc564f7e384af841f9fa672329d4a2be6698fa739caf87da491"});
    }
    SECTION("a delete with only old: old's pair") {
        // ["/buckets/main/collections/cfr/records/r2","delete","record",1717000000789,[["r2",1717000000700]]]
        CHECK(keys(R"({
          "payload": {"timestamp": 1717000000789, "action": "delete",
                      "uri": "/buckets/main/collections/cfr/records/r2", "resource_name": "record",
                      "bucket_id": "main", "collection_id": "cfr", "record_id": "r2"},
          "impacted_objects": [{"old": {"id": "r2", "last_modified": 1717000000700}}]})") ==
              keys_t{"7c71d08d6ac722e9425eb506843e6d90f914b87df58aaa54038a2fd0fa4c23c6"});
    }
    SECTION("a batch: one key per event, in order") {
        // ["/buckets/b/collections/c/records","create","record",100,[["x",99],["y",100]]]
        // ["/buckets/b/collections","create","collection",200,[["c2",200]]]
        // ["/buckets/b/groups/g","delete","group",300,[["g",300]]]
        CHECK(keys(R"({"events": [
          {"payload": {"timestamp": 100, "action": "create", "uri": "/buckets/b/collections/c/records",
                       "resource_name": "record", "bucket_id": "b", "collection_id": "c"},
           "impacted_objects": [{"new": {"id": "y", "last_modified": 100}}, {"new": {"id": "x", "last_modified": 99}}]},
          {"payload": {"timestamp": 200, "action": "create", "uri": "/buckets/b/collections",
                       "resource_name": "collection", "bucket_id": "b"},
           "impacted_objects": [{"new": {"id": "c2", "last_modified": 200}}]},
          {"payload": {"timestamp": 300, "action": "delete", "uri": "/buckets/b/groups/g",
                       "resource_name": "group", "bucket_id": "b", "group_id": "g"},
           "impacted_objects": [{"new": {"id": "g", "last_modified": 300, "deleted": true},
                                 "old": {"id": "g", "last_modified": 250}}]}]})") ==
              keys_t{"a50f975bd6c4f89860a717b4c784adcaef66348ee8cd541a0bf1950140d14878",
                     "3bd9703f9e507f4268690d0891f0a2e90564b61f10496a944a417fd18383def7",
                     "961ab8e83cf487add91d29a8c1f09bf72b5ad3337b50f7c522f2fcce2bbf51fd"});
    }
    SECTION("strings that need escaping, repeated and unsorted pairs") {
        // uri: /buckets/b/collections/c/records/"q\<U+0001>é; pairs [["a\u0002",10],["z\"9",20]]
        CHECK(keys(R"({
          "payload": {"timestamp": 1717000000123, "action": "update",
                      "uri": "/buckets/b/collections/c/records/\"q\\\u0001\u00e9",
                      "resource_name": "record", "bucket_id": "b", "collection_id": "c"},
          "impacted_objects": [{"new": {"id": "z\"9", "last_modified": 20}},
                               {"new": {"id": "a\u0002", "last_modified": 10}},
                               {"new": {"id": "z\"9", "last_modified": 20}}]})") ==
              keys_t{"ba0f7fbb62bf02529a90c36d10c481ee1b06c63b08e162e3c8d7290dc2fc91b1"});
    }
}

TEST_CASE("dedupe_key identifies an event by uri, action, resource_name, timestamp and impacted pairs",
          "[mapping]") {
    auto const mapping = no_known_collections();
    auto key = [&](ordered const& event) {
        auto const events = map_ok(mapping, event);
        REQUIRE(events.size() == 1);
        return events[0].dedupe_key;
    };
    ordered const base = ordered::parse(record_delete_plural);
    std::string const base_key = key(base);
    REQUIRE_FALSE(base_key.empty());

    SECTION("identical events, or the same event in a list, have the same key") {
        CHECK(key(ordered::parse(record_delete_plural)) == base_key);
        ordered list;
        list["events"] = ordered::array({base});
        auto const events = map_ok(mapping, list);
        REQUIRE(events.size() == 1);
        CHECK(events[0].dedupe_key == base_key);
    }
    SECTION("reordered impacted objects keep the key") {
        ordered reordered = base;
        std::swap(reordered["impacted_objects"][0], reordered["impacted_objects"][1]);
        CHECK(key(reordered) == base_key);
    }
    SECTION("fields outside the identity do not change the key") {
        ordered other = base;
        other["payload"]["user_id"] = "account:bob";
        other["impacted_objects"][0]["old"]["title"] = "changed";
        other["impacted_objects"][0]["old"]["last_modified"] = 1;   // new is the identity when present
        other["request_id"] = "retry-2";
        CHECK(key(other) == base_key);
    }
    SECTION("each identity field changes the key") {
        ordered uri = base;
        uri["payload"]["uri"] = "/buckets/blog/collections/articles/records/r2";
        CHECK(key(uri) != base_key);
        ordered action = base;
        action["payload"]["action"] = "update";
        CHECK(key(action) != base_key);
        ordered resource = base;
        resource["payload"]["resource_name"] = "thing";
        CHECK(key(resource) != base_key);
        ordered timestamp = base;
        timestamp["payload"]["timestamp"] = 1717000002002;
        CHECK(key(timestamp) != base_key);
        ordered id = base;
        id["impacted_objects"][1]["new"]["id"] = "r4";
        id["impacted_objects"][1]["old"]["id"] = "r4";
        CHECK(key(id) != base_key);
        ordered last_modified = base;
        last_modified["impacted_objects"][1]["new"]["last_modified"] = 1717000002009;
        CHECK(key(last_modified) != base_key);
        ordered fewer = base;
        fewer["impacted_objects"].erase(1);
        CHECK(key(fewer) != base_key);
    }
    SECTION("without new, old's (id, last_modified) is the identity") {
        ordered only_old = ordered::parse(R"({
          "payload": {"timestamp": 10, "action": "delete", "uri": "/buckets/b/collections/c/records/r",
                      "resource_name": "record", "bucket_id": "b", "collection_id": "c", "record_id": "r"},
          "impacted_objects": [{"old": {"id": "r", "last_modified": 5}}]})");
        std::string const old_key = key(only_old);
        CHECK(key(only_old) == old_key);
        ordered other_lm = only_old;
        other_lm["impacted_objects"][0]["old"]["last_modified"] = 6;
        CHECK(key(other_lm) != old_key);
    }
}

TEST_CASE("a bad body is refused with a message naming the field", "[mapping]") {
    auto const mapping = no_known_collections();
    ordered const good = ordered::parse(record_update);
    auto with = [&](auto change) {
        ordered event = good;
        change(event);
        return event;
    };
    auto in_list = [&](ordered const& bad) {
        ordered body;
        body["events"] = ordered::array({good, bad});
        return body;
    };

    SECTION("not an object") {
        CHECK_THAT(map_error(mapping, ordered::array({good})), Catch::Contains("must be a JSON object"));
        CHECK_THAT(map_error(mapping, ordered("text")), Catch::Contains("must be a JSON object"));
        CHECK_THAT(map_error(mapping, in_list(ordered(3))), Catch::Equals("events[1]: must be an object"));
    }
    SECTION("events not a list, empty") {
        CHECK_THAT(map_error(mapping, ordered::parse(R"({"events": {}})")), Catch::StartsWith("events: must be a list"));
        CHECK_THAT(map_error(mapping, ordered::parse(R"({"events": []})")), Catch::StartsWith("events: must not be empty"));
    }
    SECTION("missing payload") {
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e.erase("payload"); })),
                   Catch::Equals("payload: is required"));
        CHECK_THAT(map_error(mapping, in_list(with([](ordered& e) { e.erase("payload"); }))),
                   Catch::Equals("events[1].payload: is required"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["payload"] = "x"; })),
                   Catch::StartsWith("payload: must be an object"));
    }
    SECTION("bad action") {
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["payload"]["action"] = "read"; })),
                   Catch::Equals("payload.action: must be one of create, update, delete"));
        CHECK_THAT(map_error(mapping, in_list(with([](ordered& e) { e["payload"]["action"] = "read"; }))),
                   Catch::Equals("events[1].payload.action: must be one of create, update, delete"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["payload"].erase("action"); })),
                   Catch::StartsWith("payload.action: is required"));
    }
    SECTION("missing resource_name, uri, timestamp") {
        for (char const* field : {"resource_name", "uri", "timestamp"}) {
            CAPTURE(field);
            CHECK_THAT(map_error(mapping, with([&](ordered& e) { e["payload"].erase(field); })),
                       Catch::StartsWith(std::string("payload.") + field + ": is required"));
            CHECK_THAT(map_error(mapping, in_list(with([&](ordered& e) { e["payload"].erase(field); }))),
                       Catch::StartsWith(std::string("events[1].payload.") + field + ": is required"));
        }
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["payload"]["uri"] = 5; })),
                   Catch::StartsWith("payload.uri: must be a string"));
    }
    SECTION("non-integer timestamp") {
        for (ordered bad : {ordered("1717000000456"), ordered(1717000000456.5), ordered(true), ordered(nullptr)}) {
            CAPTURE(bad.dump());
            CHECK_THAT(map_error(mapping, with([&](ordered& e) { e["payload"]["timestamp"] = bad; })),
                       Catch::StartsWith("payload.timestamp: must be an integer"));
        }
    }
    SECTION("missing parent ids") {
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["payload"].erase("bucket_id"); })),
                   Catch::StartsWith("payload.bucket_id: is required"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["payload"].erase("collection_id"); })),
                   Catch::StartsWith("payload.collection_id: is required"));
        ordered collection = ordered::parse(collection_create_put);
        collection["payload"].erase("bucket_id");
        CHECK_THAT(map_error(mapping, collection), Catch::StartsWith("payload.bucket_id: is required"));
        ordered group = ordered::parse(group_update);
        group["payload"].erase("bucket_id");
        CHECK_THAT(map_error(mapping, group), Catch::StartsWith("payload.bucket_id: is required"));
    }
    SECTION("invalid ids") {
        std::string const too_long(65, 'a');
        for (std::string bad : {std::string("a/b"), too_long, std::string(""), std::string("é"), std::string("a b")}) {
            CAPTURE(bad);
            CHECK_THAT(map_error(mapping, with([&](ordered& e) { e["payload"]["bucket_id"] = bad; })),
                       Catch::StartsWith("payload.bucket_id:"));
            CHECK_THAT(map_error(mapping, with([&](ordered& e) { e["payload"]["collection_id"] = bad; })),
                       Catch::StartsWith("payload.collection_id:"));
        }
        // 64 characters is still a valid id.
        auto const events = map_ok(mapping, with([](ordered& e) {
            e["payload"]["collection_id"] = std::string(64, 'z');
            e["payload"]["uri"] = "/buckets/blog/collections/" + std::string(64, 'z') + "/records/r1";   // as Kinto says it
        }));
        CHECK(events.at(0).entries.at(0).channel == "/buckets/blog/collections/" + std::string(64, 'z'));
        // An id taken from an impacted object is checked as well.
        ordered post = ordered::parse(bucket_create_post);
        post["impacted_objects"][0]["new"]["id"] = "a/b";
        CHECK_THAT(map_error(mapping, post), Catch::Contains("impacted_objects[0]"));
        ordered collections = ordered::parse(collection_delete_plural);
        collections["impacted_objects"][1]["new"]["id"] = too_long;
        collections["impacted_objects"][1]["old"]["id"] = too_long;
        CHECK_THAT(map_error(mapping, collections), Catch::Contains("impacted_objects[1]"));
    }
    SECTION("impacted_objects not a list") {
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"] = ordered::object(); })),
                   Catch::StartsWith("impacted_objects: must be a list"));
        CHECK_THAT(map_error(mapping, in_list(with([](ordered& e) { e["impacted_objects"] = 1; }))),
                   Catch::StartsWith("events[1].impacted_objects: must be a list"));
    }
    SECTION("element without new or old, or not an object") {
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"][0] = ordered::object(); })),
                   Catch::StartsWith("impacted_objects[0]:"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"].push_back(ordered::parse(R"({"x": 1})")); })),
                   Catch::StartsWith("impacted_objects[1]:"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"][0] = "r1"; })),
                   Catch::StartsWith("impacted_objects[0]: must be an object"));
    }
    SECTION("new or old without id or last_modified") {
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"][0]["new"].erase("id"); })),
                   Catch::StartsWith("impacted_objects[0].new.id: is required"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"][0]["new"].erase("last_modified"); })),
                   Catch::StartsWith("impacted_objects[0].new.last_modified: is required"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"][0]["old"].erase("last_modified"); })),
                   Catch::StartsWith("impacted_objects[0].old.last_modified: is required"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"][0]["new"]["last_modified"] = "1"; })),
                   Catch::StartsWith("impacted_objects[0].new.last_modified: must be an integer"));
        CHECK_THAT(map_error(mapping, in_list(with([](ordered& e) { e["impacted_objects"][0]["new"].erase("id"); }))),
                   Catch::StartsWith("events[1].impacted_objects[0].new.id: is required"));
        CHECK_THAT(map_error(mapping, with([](ordered& e) { e["impacted_objects"][0]["new"] = 4; })),
                   Catch::StartsWith("impacted_objects[0].new: must be an object"));
    }
    SECTION("one bad event refuses the whole list; the first bad field is named") {
        ordered body;
        body["events"] = ordered::array({good, good, with([](ordered& e) { e["payload"]["action"] = "read"; }),
                                         with([](ordered& e) { e["payload"].erase("uri"); })});
        CHECK_THAT(map_error(mapping, body), Catch::Equals("events[2].payload.action: must be one of create, update, delete"));
    }
}
