// channels::parse_json_document: the value nlohmann::ordered_json::parse makes, member order
// and repeated keys included, and the same texts refused.

#include "channels/json_document.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <string>

using kp::channels::parse_json_document;
using json = nlohmann::ordered_json;

namespace {

void same_as_nlohmann(std::string const& text) {
    INFO(text);
    auto const reference = json::parse(text, nullptr, false);
    auto const parsed = parse_json_document(text);
    REQUIRE(parsed.has_value() == !reference.is_discarded());
    if (!parsed) return;
    REQUIRE(*parsed == reference);   // ordered_json compares objects member by member, in order
    REQUIRE(parsed->dump() == reference.dump());
}

// JSON text with objects of many members (so that nlohmann's objects grow), repeated keys,
// arrays, every kind of scalar and some whitespace.
std::string random_text(std::mt19937& random, int depth) {
    static constexpr char const* keys[] = {"a", "payload", "impacted_objects", "id", "a long key of some thirty bytes",
                                           "caf\xc3\xa9", "q\\\"", ""};
    static constexpr char const* scalars[] = {"null", "true", "false", "0", "-12", "18446744073709551615",
                                              "-9223372036854775808", "1.5", "-0.0", "1e300", "2E-3",
                                              R"("text")", R"("esc\n\u00e9\ud83d\ude00")",
                                              R"("a string longer than the small string buffer")"};
    auto const pick = [&](auto const& list) { return std::string(list[random() % std::size(list)]); };
    switch (depth > 0 ? random() % 3 : 0) {
    case 0: return pick(scalars);
    case 1: {
        std::string out = "[";
        for (int n = static_cast<int>(random() % 6); n > 0; --n) out += random_text(random, depth - 1) + (n > 1 ? "," : "");
        return out + "]";
    }
    default: {
        std::string out = "{ ";
        for (int n = static_cast<int>(random() % 12); n > 0; --n)
            out += json(pick(keys)).dump() + " : " + random_text(random, depth - 1) + (n > 1 ? ",\n" : "");
        return out + " }";
    }
    }
}

}  // namespace

TEST_CASE("parse_json_document makes the value parse() makes", "[json_document]") {
    SECTION("a Kinto event") {
        same_as_nlohmann(
            R"({"payload": {"timestamp": 1700000000000, "action": "update", "uri": "/buckets/b/collections/c/records/r",
                "user_id": "account:alice", "resource_name": "record", "bucket_id": "b", "collection_id": "c",
                "record_id": "r", "id": "r"},
                "impacted_objects": [{"new": {"id": "r", "last_modified": 1700000000000, "title": "x"},
                                      "old": {"id": "r", "last_modified": 1690000000000}}]})");
    }
    SECTION("a repeated key keeps its first place and takes the last value") {
        auto const parsed = parse_json_document(R"({"a": 1, "b": 2, "a": {"c": 3}})");
        REQUIRE(parsed.has_value());
        REQUIRE(parsed->dump() == R"({"a":{"c":3},"b":2})");
        same_as_nlohmann(R"({"a": 1, "b": 2, "a": {"c": 3}, "b": [4], "a": null})");
    }
    SECTION("scalars, empty containers and nesting") {
        for (auto const* text : {"null", "0", "-1", "1.25", "\"s\"", "[]", "{}", "[[], {}]", R"({"a": [{"b": {}}]})",
                                 " \n[1 , 2]\t", R"([{"a":1,"a":2},{"a":3}])"})
            same_as_nlohmann(text);
    }
    SECTION("the same texts are refused, and the same odd ones accepted") {
        for (auto const* text : {"", " ", "{", "[1,]", "{\"a\"}", "{\"a\":}", "{} x", "[1] [2]", "nan", "01",
                                 "\"\\x\"", "\"\xff\"", "1e999", "{\"a\":1,}", "tru", "// c\n1", "[1,]",
                                 // lone and misordered surrogate escapes; overlong, surrogate and out-of-range UTF-8
                                 "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\udc00\\ud800\"",
                                 "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf8\x88\x80\x80\x80\"",
                                 "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""})
            same_as_nlohmann(text);
    }
    SECTION("texts only nlohmann accepts are accepted: exponents beyond Boost.JSON's range, a NUL byte") {
        for (std::string const& text : {std::string("[40e-0044400444, 1]"), std::string("4e-99999"),
                                        std::string("{}\0", 3), std::string("[1]\0junk", 8)})
            same_as_nlohmann(text);
        REQUIRE(parse_json_document("[4e-99999]")->dump() == "[0.0]");
        REQUIRE_FALSE(parse_json_document("4e99999").has_value());   // beyond a double: refused by both
    }
    SECTION("random texts") {
        std::mt19937 random(28112026);
        for (int i = 0; i < 1000; ++i) same_as_nlohmann(random_text(random, 4));
    }
}
