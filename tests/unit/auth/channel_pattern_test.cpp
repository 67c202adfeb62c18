// auth::channel_pattern: channel patterns of --public-channels and JWT `channels`.

#include "auth/channel_pattern.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using kp::auth::channel_pattern;

namespace {

channel_pattern must_parse(std::string const& text) {
    auto p = channel_pattern::parse(text);
    REQUIRE(p.has_value());
    return *p;
}

}  // namespace

TEST_CASE("channel_pattern parses the shapes of channel names, with * for one id", "[auth]") {
    for (std::string const& text : std::vector<std::string>{
             "/buckets", "/buckets/blog", "/buckets/*", "/buckets/blog/collections/articles",
             "/buckets/*/collections/articles", "/buckets/blog/collections/*", "/buckets/*/collections/*",
             "/buckets/A-z_09/collections/x", "/buckets/" + std::string(64, 'b')}) {
        CAPTURE(text);
        auto p = channel_pattern::parse(text);
        REQUIRE(p.has_value());
        CHECK(p->str() == text);
    }
}

TEST_CASE("channel_pattern refuses anything else", "[auth]") {
    for (std::string const& text : std::vector<std::string>{"",
                                                            "/",
                                                            "buckets",
                                                            "buckets/blog",
                                                            "/*",
                                                            "/*/blog",
                                                            "/*/*",
                                                            "/buckets/",
                                                            "/buckets//collections/x",
                                                            "/buckets/blog/",
                                                            "/buckets/blog/collections",
                                                            "/buckets/blog/collections/",
                                                            "/buckets/blog/*/articles",
                                                            "/buckets/blog/*/*",
                                                            "/buckets/blog/groups/g",
                                                            "/buckets/blog/collections/articles/records",
                                                            "/buckets/blog/collections/articles/records/r1",
                                                            "/buckets/blog-*",
                                                            "/buckets/**",
                                                            "/buckets/*x",
                                                            "/buckets/a b",
                                                            "/buckets/a.b",
                                                            "/buckets/é",
                                                            "/Buckets/blog",
                                                            "/buckets/blog/Collections/x",
                                                            "//buckets",
                                                            "/buckets/" + std::string(65, 'b'),
                                                            "/buckets/blog/collections/articles/",
                                                            "/v1/buckets/blog",
                                                            " /buckets/blog",
                                                            "/buckets/blog "}) {
        CAPTURE(text);
        CHECK_FALSE(channel_pattern::parse(text).has_value());
    }
}

TEST_CASE("channel_pattern literal patterns match only themselves", "[auth]") {
    auto p = must_parse("/buckets/blog/collections/articles");
    CHECK(p.matches("/buckets/blog/collections/articles"));
    CHECK_FALSE(p.matches("/buckets/blog/collections/article"));
    CHECK_FALSE(p.matches("/buckets/blog/collections/articles2"));
    CHECK_FALSE(p.matches("/buckets/blog"));
    CHECK_FALSE(p.matches("/buckets"));
    CHECK_FALSE(p.matches("/buckets/blog/collections/articles/records/r1"));
    CHECK_FALSE(p.matches("/buckets/Blog/collections/articles"));

    auto firehose = must_parse("/buckets");
    CHECK(firehose.matches("/buckets"));
    CHECK_FALSE(firehose.matches("/buckets/blog"));
    CHECK_FALSE(firehose.matches("/buckets/"));
}

TEST_CASE("channel_pattern * matches exactly one id segment", "[auth]") {
    auto bucket_any = must_parse("/buckets/*");
    CHECK(bucket_any.matches("/buckets/blog"));
    CHECK(bucket_any.matches("/buckets/x"));
    CHECK_FALSE(bucket_any.matches("/buckets"));
    CHECK_FALSE(bucket_any.matches("/buckets/"));
    CHECK_FALSE(bucket_any.matches("/buckets/blog/collections/articles"));
    CHECK_FALSE(bucket_any.matches("/buckets/a b"));
    CHECK_FALSE(bucket_any.matches("/buckets/" + std::string(65, 'x')));

    auto collections_of_blog = must_parse("/buckets/blog/collections/*");
    CHECK(collections_of_blog.matches("/buckets/blog/collections/articles"));
    CHECK(collections_of_blog.matches("/buckets/blog/collections/comments"));
    CHECK_FALSE(collections_of_blog.matches("/buckets/news/collections/articles"));
    CHECK_FALSE(collections_of_blog.matches("/buckets/blog"));
    CHECK_FALSE(collections_of_blog.matches("/buckets/blog/groups/articles"));
    CHECK_FALSE(collections_of_blog.matches("/buckets/blog/collections/"));

    auto any_collection = must_parse("/buckets/*/collections/*");
    CHECK(any_collection.matches("/buckets/a/collections/b"));
    CHECK_FALSE(any_collection.matches("/buckets/a"));
    CHECK_FALSE(any_collection.matches("/buckets"));
    CHECK_FALSE(any_collection.matches("/buckets/a/records/b"));

    auto articles_anywhere = must_parse("/buckets/*/collections/articles");
    CHECK(articles_anywhere.matches("/buckets/blog/collections/articles"));
    CHECK(articles_anywhere.matches("/buckets/news/collections/articles"));
    CHECK_FALSE(articles_anywhere.matches("/buckets/news/collections/comments"));
}

TEST_CASE("channel_pattern matches nothing that is not a channel path", "[auth]") {
    auto p = must_parse("/buckets/*");
    for (std::string const& channel :
         std::vector<std::string>{"", "/", "buckets/blog", "/buckets/blog/", "//buckets/blog", "/buckets//",
                                  "/Buckets/blog", "/buckets/*x"}) {
        CAPTURE(channel);
        CHECK_FALSE(p.matches(channel));
    }
}
