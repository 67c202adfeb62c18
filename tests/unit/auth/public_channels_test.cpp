// auth::public_channels: the --public-channels list.

#include "auth/public_channels.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>
#include <variant>

using kp::auth::public_channels;

namespace {

public_channels must_parse(std::string const& list) {
    auto parsed = public_channels::parse(list);
    if (auto const* error = std::get_if<std::string>(&parsed)) FAIL("unexpected error: " << *error);
    return std::get<public_channels>(parsed);
}

std::string must_fail(std::string const& list) {
    auto parsed = public_channels::parse(list);
    REQUIRE(std::holds_alternative<std::string>(parsed));
    return std::get<std::string>(parsed);
}

}  // namespace

TEST_CASE("public_channels: empty lists and empty items", "[auth]") {
    for (std::string const& list : std::vector<std::string>{"", ",", " , ,", "\t"}) {
        CAPTURE(list);
        auto pc = must_parse(list);
        CHECK(pc.empty());
        CHECK_FALSE(pc.allows("/buckets/blog"));
        CHECK_FALSE(pc.allows("/buckets"));
    }
    auto pc = must_parse(" /buckets/blog ,, /buckets/news/collections/* ,");
    CHECK_FALSE(pc.empty());
    REQUIRE(pc.patterns().size() == 2);
    CHECK(pc.patterns()[0].str() == "/buckets/blog");
    CHECK(pc.patterns()[1].str() == "/buckets/news/collections/*");
}

TEST_CASE("public_channels allows what one of its patterns matches", "[auth]") {
    auto pc = must_parse("/buckets/blog/collections/articles,/buckets/news/collections/*,/buckets/open");
    CHECK(pc.allows("/buckets/blog/collections/articles"));
    CHECK(pc.allows("/buckets/news/collections/a"));
    CHECK(pc.allows("/buckets/news/collections/b"));
    CHECK(pc.allows("/buckets/open"));

    CHECK_FALSE(pc.allows("/buckets/blog"));
    CHECK_FALSE(pc.allows("/buckets/blog/collections/comments"));
    CHECK_FALSE(pc.allows("/buckets/news"));
    CHECK_FALSE(pc.allows("/buckets/open/collections/x"));
    CHECK_FALSE(pc.allows("/buckets/other"));
    CHECK_FALSE(pc.allows(""));
}

TEST_CASE("public_channels never opens the firehose", "[auth]") {
    auto every_bucket = must_parse("/buckets/*,/buckets/*/collections/*");
    CHECK(every_bucket.allows("/buckets/anything"));
    CHECK(every_bucket.allows("/buckets/a/collections/b"));
    CHECK_FALSE(every_bucket.allows("/buckets"));

    std::string error = must_fail("/buckets/blog,/buckets");
    CHECK(error.find("'/buckets'") != std::string::npos);
    CHECK(error.find("firehose") != std::string::npos);
    CHECK(error.find("never") != std::string::npos);
    CHECK_THAT(must_fail(" /buckets "), Catch::Contains("firehose"));
}

TEST_CASE("public_channels errors name the bad pattern", "[auth]") {
    for (std::string const& bad :
         std::vector<std::string>{"/*", "/buckets/", "/buckets/blog-*", "buckets/blog", "/buckets/a b",
                                  "/buckets/blog/records/x", "/buckets/*/*/x"}) {
        CAPTURE(bad);
        std::string error = must_fail("/buckets/ok," + bad + ",/buckets/also-ok");
        CHECK(error.find("'" + bad + "'") != std::string::npos);
        CHECK(error.find("firehose") == std::string::npos);
    }
}

TEST_CASE("public_channels drops duplicate patterns", "[auth]") {
    auto pc = must_parse("/buckets/blog,/buckets/blog, /buckets/blog");
    CHECK(pc.patterns().size() == 1);
    CHECK(pc.allows("/buckets/blog"));
}
