#pragma once
// A JSON string literal appended to text being built by hand (frames, answers, identities),
// without building a JSON value for it: names and ids made of plain ASCII (all channel names)
// are copied between quotes; anything else goes through nlohmann's serializer, which escapes
// it exactly as it would inside a JSON document.

#include <string>
#include <string_view>

namespace kp::channels {

void append_json_string(std::string& out, std::string_view text);

}  // namespace kp::channels
