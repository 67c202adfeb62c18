#pragma once
// Nesting check run on untrusted JSON text before it is parsed, so that deep nesting is
// refused cheaply and never reaches a recursive walk.

#include <cstddef>
#include <string_view>

namespace kp::channels {

// True when no array/object in `text` nests deeper than `max_depth`. Strings are skipped, so
// brackets inside them do not count. It does not validate the JSON: the parser does that.
bool json_depth_within(std::string_view text, std::size_t max_depth);

}  // namespace kp::channels
