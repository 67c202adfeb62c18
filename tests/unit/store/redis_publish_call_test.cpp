// One call of the publish script: the arguments its Lua reads in order, and its answer read
// back (what each event was given, the offsets redis_store waits to see announced). An answer
// of the wrong shape is refused whole.

#include "store/redis_publish_call.hpp"

#include "tests/unit/store/redis_replies.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using kp::store::append_event;
using kp::store::channel_offset;
using kp::store::redis_publish_call;
using kp::store::redis_reply;
using kp::test::array;
using kp::test::bulk;
using kp::test::integer_reply;
using kp::store::retention;

namespace {

// {duplicate, offsets text}, as the script answers for one event.
redis_reply event(bool duplicate, std::string offsets) {
    return array({integer_reply(duplicate ? 1 : 0), bulk(std::move(offsets))});
}

// Two transactions: the first of two events (the second with two parts), the second of one.
std::vector<std::vector<append_event>> const group{
    {{"k1", {{"/buckets/b/collections/c", 1700, R"({"a":1})"}}},
     {"", {{"/buckets/b/collections/c", 1701, "{}"}, {"/buckets/b", 1701, "{\n}"}}}},
    {{"k3", {{"/buckets", -2, "x"}}}},
};

}  // namespace

TEST_CASE("redis_publish_call: the arguments, in the order the script reads them", "[redis][publish]") {
    auto args = redis_publish_call::arguments("kp:", "e1", retention{50, 90'500}, "kp:events:0", group);
    CHECK(args == std::vector<std::string>{"kp:", "e1", "50", "90", "kp:events:0", "2",
                                           "2",
                                           "k1", "1", "/buckets/b/collections/c", "1700", R"({"a":1})",
                                           "", "2", "/buckets/b/collections/c", "1701", "{}",
                                           "/buckets/b", "1701", "{\n}",
                                           "1",
                                           "k3", "1", "/buckets", "-2", "x"});
    // The dedupe keys' TTL is in whole seconds, never 0 (no TTL would keep them forever).
    CHECK(redis_publish_call::arguments("kp:", "e1", retention{5, 400}, "t", group)[3] == "1");
    CHECK(redis_publish_call::arguments("kp:", "e1", retention{5, 400}, "t", {}).size() == 6);
}

TEST_CASE("redis_publish_call: the answer gives each event its offsets; new ones are awaited",
          "[redis][publish]") {
    auto reply = array({array({event(false, "4 /buckets/b/collections/c\n"),
                               event(false, "5 /buckets/b/collections/c\n2 /buckets/b\n")}),
                        array({event(true, "9 /buckets\n")})});
    auto answer = redis_publish_call::read_answer(reply, group);
    REQUIRE(answer);
    REQUIRE(answer->appended.size() == 2);
    REQUIRE(answer->appended[0].size() == 2);
    CHECK(answer->appended[0][0].offsets == std::vector<channel_offset>{{"/buckets/b/collections/c", 4}});
    CHECK_FALSE(answer->appended[0][0].duplicate);
    CHECK(answer->appended[0][1].offsets ==
          std::vector<channel_offset>{{"/buckets/b/collections/c", 5}, {"/buckets/b", 2}});
    REQUIRE(answer->appended[1].size() == 1);
    CHECK(answer->appended[1][0].duplicate);
    CHECK(answer->appended[1][0].offsets == std::vector<channel_offset>{{"/buckets", 9}});
    // The highest new offset per channel; a duplicate's offsets were announced long ago.
    CHECK(answer->awaited.size() == 2);
    CHECK(answer->awaited.at("/buckets/b/collections/c") == 5);
    CHECK(answer->awaited.at("/buckets/b") == 2);
    CHECK_FALSE(answer->awaited.contains("/buckets"));
}

TEST_CASE("redis_publish_call: an answer of another shape is refused", "[redis][publish]") {
    auto first = [] {
        return array({event(false, "4 /buckets/b/collections/c\n"), event(false, "5 /buckets/b/collections/c\n")});
    };
    auto second = [] { return array({event(false, "9 /buckets\n")}); };
    CHECK(redis_publish_call::read_answer(array({first(), second()}), group));
    CHECK_FALSE(redis_publish_call::read_answer(bulk("OK"), group));
    CHECK_FALSE(redis_publish_call::read_answer(array({first()}), group));   // a transaction missing
    CHECK_FALSE(redis_publish_call::read_answer(array({first(), array({})}), group));   // an event missing
    CHECK_FALSE(redis_publish_call::read_answer(array({first(), bulk("9 /buckets\n")}), group));
    CHECK_FALSE(redis_publish_call::read_answer(array({first(), array({array({integer_reply(0)})})}), group));
    CHECK_FALSE(redis_publish_call::read_answer(array({first(), array({event(false, "nine /buckets\n")})}), group));
}
