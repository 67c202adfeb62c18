#pragma once
// The answer to a WebSocket upgrade request that http_session recognized (RFC 6455 section
// 4.2.2), without a socket: 101 with the accept key and, when the client offers it and
// --compression is on, permessage-deflate (websocket/deflate_negotiation); or the refusal, 426
// for another protocol version, 400 for a bad key. websocket_connection writes it; the
// endpoint adds its own headers (a subprotocol) to a 101.

#include "server/http/http_responses.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace kp::server {

struct upgrade_answer {
    http_response response;   // 101, or the refusal
    bool accepted = false;
    bool deflate = false;     // permessage-deflate negotiated

    static upgrade_answer to(boost::beast::http::request<boost::beast::http::string_body> const& request,
                             bool compression);
};

}  // namespace kp::server
