#pragma once
// Answers every plain HTTP request (everything but the WebSocket upgrade): publishing, the
// history, the service endpoints and the web demo.

#include "server/http_responses.hpp"
#include "server/server_context.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace kp::server {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;

class router {
public:
    explicit router(server_context& context) : context_(context) {}

    // `loopback`: the peer's address is 127.0.0.0/8 or ::1.
    http_response handle(http_request const& request, bool loopback) const;

private:
    http_response publish(http_request const& request, bool loopback) const;
    http_response history(http_request const& request) const;
    http_response info(http_request const& request) const;

    server_context& context_;
};

}  // namespace kp::server
