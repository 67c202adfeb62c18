// channels::json_depth_within: nesting refused before parsing (PROTOCOL.md section 3: 64 levels).

#include "channels/json_depth.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::channels::json_depth_within;

namespace {

std::string nested_arrays(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

// {"a":{"a":...{}...}}
std::string nested_objects(std::size_t depth) {
    std::string out;
    for (std::size_t i = 1; i < depth; ++i) out += "{\"a\":";
    out += "{}";
    out += std::string(depth - 1, '}');
    return out;
}

}  // namespace

TEST_CASE("depth 64 is accepted, 65 refused", "[json_depth]") {
    CHECK(json_depth_within(nested_arrays(64), 64));
    CHECK_FALSE(json_depth_within(nested_arrays(65), 64));
    CHECK(json_depth_within(nested_objects(64), 64));
    CHECK_FALSE(json_depth_within(nested_objects(65), 64));

    // Mixed arrays and objects count alike.
    std::string mixed;
    for (int i = 0; i < 32; ++i) mixed += "{\"k\":[";
    std::string closing;
    for (int i = 0; i < 32; ++i) closing += "]}";
    CHECK(json_depth_within(mixed + "1" + closing, 64));
    CHECK_FALSE(json_depth_within("[" + mixed + "1" + closing + "]", 64));
}

TEST_CASE("the limit every receiver applies by default is the protocol's 64 levels", "[json_depth]") {
    CHECK(kp::channels::max_json_depth == 64);
    CHECK(json_depth_within(nested_arrays(64)));
    CHECK_FALSE(json_depth_within(nested_arrays(65)));
    CHECK(json_depth_within(nested_objects(64)));
    CHECK_FALSE(json_depth_within(nested_objects(65)));
}

TEST_CASE("depth counts nesting, not the number of brackets", "[json_depth]") {
    std::string wide = "[";
    for (int i = 0; i < 1000; ++i) wide += "[],{},";
    wide += "1]";
    CHECK(json_depth_within(wide, 2));
    CHECK_FALSE(json_depth_within(wide, 1));
    CHECK(json_depth_within("", 0));
    CHECK(json_depth_within("123", 0));
    CHECK_FALSE(json_depth_within("{}", 0));
    CHECK(json_depth_within("{}", 1));
}

TEST_CASE("brackets inside strings are ignored", "[json_depth]") {
    std::string const brackets(200, '[');
    CHECK(json_depth_within(R"({"type":"ping","id":")" + brackets + R"("})", 1));
    CHECK(json_depth_within(R"({")" + std::string(200, '{') + R"(":1})", 1));
}

TEST_CASE("escaped quotes do not end a string, and an escaped backslash does not escape the quote",
          "[json_depth]") {
    // The string is  "\"[[[["  : the brackets after the escaped quote are still inside it.
    CHECK(json_depth_within(R"({"id":"\"[[[[[[","x":1})", 1));
    CHECK(json_depth_within(R"(["\\\"[[[[", 1])", 1));
    // The string is  "\\"  : it ends at the second quote, so the brackets after it count.
    CHECK_FALSE(json_depth_within(R"(["\\", [[ ]]])", 2));
    CHECK(json_depth_within(R"(["\\", [[ ]]])", 3));
}

TEST_CASE("strings are skipped to their closing quote, wherever the escapes fall", "[json_depth]") {
    // An unterminated string ends the check (the parser refuses the text); brackets after an
    // opening quote with no closing one do not count.
    CHECK(json_depth_within(R"(["[[[[)", 1));
    CHECK(json_depth_within(R"(["ab\")", 1));
    // A run of backslashes right after the opening quote: "\\\\" is two escaped backslashes.
    CHECK_FALSE(json_depth_within(R"(["\\\\", [[]]])", 2));
    CHECK(json_depth_within(R"(["\\\\\"[[", 1])", 1));
    // Long strings (found by memchr) around structure that still counts.
    std::string const long_text(10'000, 'x');
    CHECK(json_depth_within(R"({"a":")" + long_text + R"(","b":[[1]]})", 3));
    CHECK_FALSE(json_depth_within(R"({"a":")" + long_text + R"(","b":[[1]]})", 2));
    CHECK_FALSE(json_depth_within(R"({"a":")" + long_text + R"(\\","b":[[1]]})", 2));
    CHECK(json_depth_within(R"({"a":")" + long_text + R"(\",[[[[","b":1})", 1));
}
