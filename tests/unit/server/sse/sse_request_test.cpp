#include "server/sse/sse_request.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>

using kp::server::parse_sse_request;
using kp::server::sse_refusal;
using kp::server::sse_request;

namespace {

sse_request accepted(std::string const& target, std::optional<std::string_view> last_event_id = std::nullopt,
                     std::size_t max = 4) {
    auto parsed = parse_sse_request(target, last_event_id, max);
    if (auto* refusal = std::get_if<sse_refusal>(&parsed)) FAIL("refused: " << refusal->message);
    return std::get<sse_request>(parsed);
}

std::string refused(std::string const& target, std::optional<std::string_view> last_event_id = std::nullopt,
                    std::size_t max = 4) {
    auto parsed = parse_sse_request(target, last_event_id, max);
    REQUIRE(std::holds_alternative<sse_refusal>(parsed));
    return std::get<sse_refusal>(parsed).message;
}

}  // namespace

TEST_CASE("an SSE request subscribes to its channels in the query's order, live", "[sse]") {
    auto r = accepted("/v1/sse?channel=/buckets/b/collections/c&channel=%2Fbuckets%2Fb&_=123&access_token=t.o.k");
    REQUIRE(r.subscribes.size() == 2);
    CHECK(r.subscribes[0].channel == "/buckets/b/collections/c");
    CHECK(r.subscribes[1].channel == "/buckets/b");
    CHECK(r.access_token == "t.o.k");
    for (auto const& s : r.subscribes) {
        CHECK_FALSE(s.since_position);
        CHECK_FALSE(s.since_timestamp);
        CHECK(s.id.is_null());
    }
    CHECK(r.asked == std::vector<std::optional<std::uint64_t>>{std::nullopt, std::nullopt});
    CHECK_FALSE(r.foreign_id);
}

TEST_CASE("an SSE request resumes from its id, the header's over the query's", "[sse]") {
    auto r = accepted("/v1/sse?channel=/buckets/b&channel=/buckets/c&last_event_id=e1_1_1", std::string_view("e2_41_"));
    REQUIRE(r.subscribes[0].since_position);
    CHECK(r.subscribes[0].since_position->epoch == "e2");
    CHECK(r.subscribes[0].since_position->offset == 41);
    CHECK_FALSE(r.subscribes[1].since_position);   // an empty slot: asked nothing
    CHECK(r.asked[0] == 41u);
    CHECK_FALSE(r.asked[1]);

    auto q = accepted("/v1/sse?channel=/buckets/b&last_event_id=e1_7");
    REQUIRE(q.subscribes[0].since_position);
    CHECK(q.subscribes[0].since_position->offset == 7);
}

TEST_CASE("an id that is not ours resumes nothing: a position no history covers", "[sse]") {
    for (std::string id : {"garbage", "e1_1", "e1_1_2_3", "e1_x_1"}) {
        auto r = accepted("/v1/sse?channel=/buckets/b&channel=/buckets/c", std::string_view(id));
        CHECK(r.foreign_id);
        for (auto const& s : r.subscribes) {
            REQUIRE(s.since_position);
            CHECK(s.since_position->epoch.empty());
        }
        CHECK(r.asked[0] == 0u);
    }
    // An empty header is no id.
    CHECK_FALSE(accepted("/v1/sse?channel=/buckets/b", std::string_view("")).foreign_id);
}

TEST_CASE("since_timestamp asks every collection channel, and only those", "[sse]") {
    auto r = accepted("/v1/sse?channel=/buckets/b/collections/c&channel=/buckets/b/collections/d&since_timestamp=1717");
    for (auto const& s : r.subscribes) CHECK(s.since_timestamp == 1717);
    // A channel the id positions resumes from the id instead.
    auto mixed = accepted("/v1/sse?channel=/buckets/b/collections/c&channel=/buckets/b/collections/d&since_timestamp=5",
                          std::string_view("e1__3"));
    CHECK(mixed.subscribes[0].since_timestamp == 5);
    CHECK_FALSE(mixed.subscribes[1].since_timestamp);
    CHECK(mixed.subscribes[1].since_position->offset == 3);

    CHECK(refused("/v1/sse?channel=/buckets/b&since_timestamp=5").find("only on collection channels") !=
          std::string::npos);
    CHECK(refused("/v1/sse?channel=/buckets/b/collections/c&since_timestamp=-5").starts_with("since_timestamp:"));
    CHECK(refused("/v1/sse?channel=/buckets/b/collections/c&since_timestamp=9223372036854775808")
              .starts_with("since_timestamp:"));
}

TEST_CASE("bad SSE requests are refused with the parameter named", "[sse]") {
    CHECK(refused("/v1/sse").starts_with("channel: at least one"));
    CHECK(refused("/v1/sse?channel=/nope").find("is not a channel (/buckets,") != std::string::npos);
    CHECK(refused("/v1/sse?channel=/buckets/b&channel=/buckets/b").find("given twice") != std::string::npos);
    CHECK(refused("/v1/sse?channel=/buckets/a&channel=/buckets/b&channel=/buckets/c", std::nullopt, 2) ==
          "channel: at most 2 channels per stream");
    CHECK(accepted("/v1/sse?channel=/buckets/a&channel=/buckets/b", std::nullopt, 2).subscribes.size() == 2);
}
