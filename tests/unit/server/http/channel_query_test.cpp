// server/http/channel_query: the targets of GET /v1/channels and GET /v1/channels/{channel}
// (both URL forms, prefix, limit, bad input) and the listing's selection.

#include "server/http/channel_query.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

using kp::server::channel_query;

namespace {

channel_query ok(std::string const& target) {
    auto parsed = channel_query::parse(target);
    if (auto const* message = std::get_if<std::string>(&parsed)) FAIL(target << ": " << *message);
    return std::get<channel_query>(parsed);
}

std::string error(std::string const& target) {
    auto parsed = channel_query::parse(target);
    REQUIRE(std::holds_alternative<std::string>(parsed));
    return std::get<std::string>(parsed);
}

}  // namespace

TEST_CASE("channel_query: one channel, percent-encoded or as a path", "[channel_query]") {
    for (auto const& [target, channel] : std::vector<std::pair<std::string, std::string>>{
             {"/v1/channels/%2Fbuckets%2Fblog", "/buckets/blog"},
             {"/v1/channels/%2fbuckets%2fblog", "/buckets/blog"},
             {"/v1/channels/buckets/blog", "/buckets/blog"},
             {"/v1/channels/buckets/blog/collections/articles", "/buckets/blog/collections/articles"},
             {"/v1/channels/%2Fbuckets%2Fblog%2Fcollections%2Farticles", "/buckets/blog/collections/articles"},
             {"/v1/channels/buckets", "/buckets"},
             {"/v1/channels/%2Fbuckets", "/buckets"},
             {"/v1/channels/buckets/b?prefix=ignored&limit=0", "/buckets/b"},
         }) {
        CAPTURE(target);
        auto query = ok(target);
        REQUIRE(query.channel.has_value());
        CHECK(*query.channel == channel);
    }
}

TEST_CASE("channel_query: a bad channel names the grammar", "[channel_query]") {
    for (std::string const& target : std::vector<std::string>{"/v1/channels/", "/v1/channels/buckets/b/", "/v1/channels/%2F%2Fbuckets",
                                     "/v1/channels/buckets/b/records/r", "/v1/channels/buckets/a%20b",
                                     "/v1/channels/other", "/v1/channels/buckets/b/collections",
                                     "/v1/channels/buckets/" + std::string(65, 'x')}) {
        CAPTURE(target);
        auto message = error(target);
        CHECK(message.starts_with("channel: "));
        CHECK(message.find("/buckets/BID/collections/CID") != std::string::npos);
    }
}

TEST_CASE("channel_query: the listing's prefix and limit", "[channel_query]") {
    auto plain = ok("/v1/channels");
    CHECK_FALSE(plain.channel.has_value());
    CHECK(plain.prefix.empty());
    CHECK(plain.limit == 100);
    auto q = ok("/v1/channels?prefix=%2Fbuckets%2Fblog&limit=7");
    CHECK(q.prefix == "/buckets/blog");
    CHECK(q.limit == 7);
    CHECK(ok("/v1/channels?prefix=/buckets/blog/").prefix == "/buckets/blog/");
    CHECK(ok("/v1/channels?prefix=").prefix.empty());
    CHECK(ok("/v1/channels?limit=1000").limit == 1000);
    CHECK(ok("/v1/channels?limit=1001").limit == 1000);
    CHECK(ok("/v1/channels?limit=99999999999999999").limit == 1000);
    CHECK(ok("/v1/channels?limit=007").limit == 7);

    CHECK(error("/v1/channels?prefix=buckets").starts_with("prefix: "));
    CHECK(error("/v1/channels?prefix=%2Fbucket").starts_with("prefix: "));
    CHECK(error("/v1/channels?prefix=x").starts_with("prefix: "));
    for (std::string const limit : {"0", "-1", "", "ten", "1e3", "99999999999999999999999"}) {
        CAPTURE(limit);
        CHECK(error("/v1/channels?limit=" + limit).starts_with("limit: "));
    }
}

TEST_CASE("channel_query: select sorts, dedupes, filters, then cuts", "[channel_query]") {
    auto everything = [](std::string const&) { return true; };
    auto sel = channel_query::select({"/buckets/c", "/buckets/a", "/buckets/b", "/buckets/a"}, everything, 10);
    CHECK(sel.channels == std::vector<std::string>{"/buckets/a", "/buckets/b", "/buckets/c"});
    CHECK_FALSE(sel.more);
    sel = channel_query::select({"/buckets/c", "/buckets/a", "/buckets/b"}, everything, 2);
    CHECK(sel.channels == std::vector<std::string>{"/buckets/a", "/buckets/b"});
    CHECK(sel.more);
    sel = channel_query::select({"/buckets/c", "/buckets/a", "/buckets/b"}, everything, 3);
    CHECK_FALSE(sel.more);
    // Filtered before the cut: what the caller may not see does not use up the limit.
    sel = channel_query::select({"/buckets/a", "/buckets/x1", "/buckets/x2", "/buckets/b"},
                                [](std::string const& n) { return !n.starts_with("/buckets/x"); }, 2);
    CHECK(sel.channels == std::vector<std::string>{"/buckets/a", "/buckets/b"});
    CHECK_FALSE(sel.more);
    CHECK(channel_query::select({}, everything, 5).channels.empty());
}
