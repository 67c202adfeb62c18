#pragma once
// A parsed JSON value written back as compact text, byte for byte what nlohmann's dump()
// writes for it, but faster on the publish path: strings go through append_json_string
// (copied whole when they need no escape) instead of nlohmann's byte-by-byte UTF-8 escaper.
// Every event's payload and impacted objects are written back so (kinto_mapping).
//
// For values the parser made, whose strings are valid UTF-8 (dump() would throw on invalid
// UTF-8; this writes it as it is). Recursive: check the depth first (json_depth_within).

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace kp::channels {

void append_compact_json(std::string& out, nlohmann::ordered_json const& value);

}  // namespace kp::channels
