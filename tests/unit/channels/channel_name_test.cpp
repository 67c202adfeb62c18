// channels::channel_name: the three channel kinds of PROTOCOL.md section 1 and Kinto ids.

#include "channels/channel_name.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::channels::channel_name;

TEST_CASE("valid_id accepts Kinto ids [a-zA-Z0-9_-]{1,64}", "[channel_name]") {
    CHECK(channel_name::valid_id("a"));
    CHECK(channel_name::valid_id("blog"));
    CHECK(channel_name::valid_id("Az09_-"));
    CHECK(channel_name::valid_id("9f2c61d0-aa_BB"));
    CHECK(channel_name::valid_id(std::string(64, 'x')));

    CHECK_FALSE(channel_name::valid_id(""));
    CHECK_FALSE(channel_name::valid_id(std::string(65, 'x')));
    CHECK_FALSE(channel_name::valid_id("a/b"));
    CHECK_FALSE(channel_name::valid_id("a b"));
    CHECK_FALSE(channel_name::valid_id("a.b"));
    CHECK_FALSE(channel_name::valid_id("a*"));
    CHECK_FALSE(channel_name::valid_id("caf\xc3\xa9"));
    CHECK_FALSE(channel_name::valid_id(std::string("a\0b", 3)));
    CHECK_FALSE(channel_name::valid_id("a\n"));
}

TEST_CASE("parse recognises the firehose, bucket and collection channels", "[channel_name]") {
    auto firehose = channel_name::parse("/buckets");
    REQUIRE(firehose);
    CHECK(firehose->type() == channel_name::kind::firehose);
    CHECK(firehose->str() == "/buckets");

    auto bucket = channel_name::parse("/buckets/blog");
    REQUIRE(bucket);
    CHECK(bucket->type() == channel_name::kind::bucket);
    CHECK(bucket->str() == "/buckets/blog");

    auto collection = channel_name::parse("/buckets/blog/collections/articles");
    REQUIRE(collection);
    CHECK(collection->type() == channel_name::kind::collection);
    CHECK(collection->str() == "/buckets/blog/collections/articles");

    std::string const longest = "/buckets/" + std::string(64, 'b') + "/collections/" + std::string(64, 'c');
    auto longest_name = channel_name::parse(longest);
    REQUIRE(longest_name);
    CHECK(longest_name->type() == channel_name::kind::collection);
}

TEST_CASE("parse refuses anything else", "[channel_name]") {
    std::string const long_id(65, 'a');
    for (std::string text : {std::string(""), std::string("/"), std::string("buckets"), std::string("/bucket"),
                             std::string("/buckets/"), std::string("/bucketsx"), std::string("/buckets//"),
                             std::string("/buckets/a/"), std::string("/buckets/a/groups/b"),
                             std::string("/buckets/a/collections"), std::string("/buckets/a/collections/"),
                             std::string("/buckets/a/collections/b/"),
                             std::string("/buckets/a/collections/b/records/r1"),
                             std::string("/buckets/a b"), std::string("/buckets/a.b"),
                             std::string("/buckets/a/collections/b.c"), std::string("/buckets/*"),
                             std::string("/buckets/a/collections/*"), "/buckets/" + long_id,
                             "/buckets/a/collections/" + long_id, std::string("/v1/buckets/a"),
                             std::string("/Buckets/a"), std::string(" /buckets"), std::string("/buckets "),
                             std::string("/buckets/a/Collections/b")}) {
        CAPTURE(text);
        CHECK_FALSE(channel_name::parse(text));
    }
}

TEST_CASE("builders give the names parse accepts", "[channel_name]") {
    CHECK(channel_name::firehose() == "/buckets");
    CHECK(channel_name::bucket("blog") == "/buckets/blog");
    CHECK(channel_name::collection("blog", "articles") == "/buckets/blog/collections/articles");
    CHECK(channel_name::parse(channel_name::bucket("b-1"))->type() == channel_name::kind::bucket);
    CHECK(channel_name::parse(channel_name::collection("b", "c_2"))->type() == channel_name::kind::collection);
}
