#pragma once
// The head of an HTTP response (status line, fields, blank line) as one string, byte for byte
// what Beast's serializer writes for it. http_session writes the head and the body with one
// gathered write instead of running the serializer: answering a publish is on every event's
// path, and the serializer's generic machinery cost more than the few bytes it writes.

#include "server/http/http_responses.hpp"

#include <string>

namespace kp::server {

// Appends the head of `response` to `head`. Not for chunked responses (the serializer frames
// their body): check chunked() first.
void append_response_head(std::string& head, http_response const& response);

}  // namespace kp::server
