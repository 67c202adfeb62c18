#pragma once
// Parses a POST body into an nlohmann::ordered_json, the value nlohmann::ordered_json::parse
// makes (members in the order given; a repeated key keeps its first place and takes its last
// value; the same texts refused), about three times faster: Boost.JSON's parser reads the
// text, and its events build the value bottom-up, each object sized once for its members.
// (nlohmann's own lexer costs about 100 instructions per byte, and its builder copies an
// object's members, nested values included, each time the object outgrows its storage.)
// A text Boost.JSON refuses goes to nlohmann's parse(), which decides: the few texts nlohmann
// accepts and Boost.JSON does not (an exponent beyond Boost.JSON's range, such as 4e-99999,
// read as 0; a NUL byte, which nlohmann reads as the end of the text) stay accepted, and bad
// input costs two parses. Unit tests and the ingest_body fuzz target hold the result to
// nlohmann's parse().
//
// Run on every publish. Check the nesting first (json_depth_within): a value is destroyed
// recursively, and this parser accepts up to 4,096 levels.

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace kp::channels {

// nullopt when `text` is not one JSON value (trailing text included).
std::optional<nlohmann::ordered_json> parse_json_document(std::string_view text);

}  // namespace kp::channels
