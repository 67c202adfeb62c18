// channels::kinto_uri, and kinto_mapping refusing an event whose uri disagrees with its ids.

#include "channels/kinto_mapping.hpp"
#include "channels/kinto_uri.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <variant>
#include <vector>

using kp::channels::kinto_mapping;
using kp::channels::kinto_uri;
using kp::channels::mapping_error;
using json = nlohmann::ordered_json;
using pairs = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("kinto_uri: the ids a Kinto URI names", "[mapping][refusals]") {
    CHECK(kinto_uri::ids("/buckets/b/collections/c/records/r") ==
          pairs{{"bucket_id", "b"}, {"collection_id", "c"}, {"record_id", "r"}});
    CHECK(kinto_uri::ids("/buckets/b/collections/c/records") == pairs{{"bucket_id", "b"}, {"collection_id", "c"}});
    CHECK(kinto_uri::ids("/buckets/b/groups/g") == pairs{{"bucket_id", "b"}, {"group_id", "g"}});
    CHECK(kinto_uri::ids("/buckets") == pairs{});
    CHECK(kinto_uri::ids("/buckets/b/history") == pairs{{"bucket_id", "b"}});
    CHECK(kinto_uri::ids("") == pairs{});
}

TEST_CASE("kinto_uri: only ids the payload gives are compared", "[mapping][refusals]") {
    auto const payload = json{{"bucket_id", "b"}, {"collection_id", "c"}};
    CHECK_FALSE(kinto_uri::check("/buckets/b/collections/c/records/r", payload));
    auto const off = kinto_uri::check("/buckets/b/collections/other/records/r", payload);
    REQUIRE(off);
    CHECK(off->field == "collection_id");
    CHECK(off->uri_id == "other");
}

namespace {

json record_event(std::string const& uri, std::string const& record_id) {
    return json{{"payload",
                 {{"timestamp", 10}, {"action", "update"}, {"uri", uri}, {"resource_name", "record"},
                  {"bucket_id", "blog"}, {"collection_id", "articles"}, {"record_id", record_id}}},
                {"impacted_objects", json::array({json{{"new", {{"id", record_id}, {"last_modified", 10}}}}})}};
}

std::string error_of(json const& body) {
    auto result = kinto_mapping(nullptr).map(body);
    REQUIRE(std::holds_alternative<mapping_error>(result));
    return std::get<mapping_error>(result).message;
}

}  // namespace

TEST_CASE("kinto_mapping: an event whose uri disagrees with its ids is refused, naming the field",
          "[mapping][refusals]") {
    CHECK(std::holds_alternative<std::vector<kp::store::append_event>>(
        kinto_mapping(nullptr).map(record_event("/buckets/blog/collections/articles/records/r1", "r1"))));
    CHECK(error_of(record_event("/buckets/other/collections/articles/records/r1", "r1")) ==
          "payload.uri: names bucket_id 'other', but payload.bucket_id is 'blog'");
    CHECK(error_of(record_event("/buckets/blog/collections/articles/records/r2", "r1")) ==
          "payload.uri: names record_id 'r2', but payload.record_id is 'r1'");
    CHECK(error_of(json{{"events", json::array({record_event("/buckets/blog/collections/x y/records/r1", "r1")})}}) ==
          "events[0].payload.uri: names collection_id another id, but events[0].payload.collection_id is 'articles'");
}
