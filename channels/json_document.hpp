#pragma once
// Parses a POST body into an ordered_json: the same value as nlohmann::ordered_json::parse
// (members in the order given; a repeated key keeps its first place and its last value), but
// built bottom-up from nlohmann's SAX events. Each object's members are collected first and
// moved into an object sized for them once, where the library's own builder grows each object
// member by member, copying the members it already holds, nested values included, every time
// the object outgrows its storage.
//
// Run on every publish; check the nesting first (json_depth_within): the value is destroyed
// recursively.

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace kp::channels {

// nullopt when `text` is not one JSON value (trailing text included).
std::optional<nlohmann::ordered_json> parse_json_document(std::string_view text);

}  // namespace kp::channels
