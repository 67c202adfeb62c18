// channels::append_json_string: the JSON literal nlohmann writes for a string, whatever its
// length and wherever a character that needs escaping falls.

#include "channels/json_string.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using kp::channels::append_json_string;

namespace {

std::string literal(std::string const& text) {
    std::string out = "kept|";
    append_json_string(out, text);
    return out;
}

}  // namespace

TEST_CASE("append_json_string writes the literal nlohmann writes", "[json_string]") {
    REQUIRE(literal("") == R"(kept|"")");
    REQUIRE(literal("/buckets/b/collections/c") == R"(kept|"/buckets/b/collections/c")");
    REQUIRE(literal("a\"b\\c\n\x01") == R"(kept|"a\"b\\c\n\u0001")");
    for (std::size_t length = 1; length <= 100; ++length) {
        std::string const plain(length, 'x');
        REQUIRE(literal(plain) == "kept|" + nlohmann::json(plain).dump());
        for (std::string special : {"\"", "\\", "\x1f", "\x7f", "\xc3\xa9"}) {
            for (std::size_t at : {std::size_t{0}, length / 2, length - 1}) {
                std::string text = plain;
                text.replace(at, 1, special);
                INFO("length " << length << ", special at " << at);
                REQUIRE(literal(text) == "kept|" + nlohmann::json(text).dump());
            }
        }
    }
}
