#pragma once
// What every HTTP endpoint works with: the request, who sent it, and the callback that takes
// the response.

#include "server/http/http_responses.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <string>

namespace kp::server {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;

// Who sent a request: the address (for the logs) and whether it is 127.0.0.0/8 or ::1.
struct http_peer {
    std::string address;
    bool loopback = false;
};

// Receives the response, on any thread (the caller moves it to its own).
using http_responder = std::function<void(http_response)>;

}  // namespace kp::server
