#pragma once
// Nesting check run on untrusted JSON text before it is parsed, so that deep nesting is
// refused cheaply and never reaches a recursive walk.

#include <cstddef>
#include <string_view>

namespace kp::channels {

// The nesting allowed in every JSON text kinto-push receives: POST bodies and the frames of
// WebSocket clients (PROTOCOL.md section 3).
constexpr std::size_t max_json_depth = 64;

// True when no array/object in `text` nests deeper than `max_depth`. Strings are skipped, so
// brackets inside them do not count. It does not validate the JSON: the parser does that.
bool json_depth_within(std::string_view text, std::size_t max_depth = max_json_depth);

}  // namespace kp::channels
