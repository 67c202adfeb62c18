#pragma once
// The TCP stream under a WebSocket: Beast's tcp_stream with a teardown that lingers.
//
// Why: when Beast fails a connection itself (a message over --max-frame-bytes: 1009, invalid
// UTF-8: 1007), it sends the close frame and tears the TCP connection down; Beast 1.81's TCP
// teardown reads at most one buffer before closing, so a peer that is still sending gets a
// reset and never sees the close code. This teardown drains the peer (bounded) first.

#include "server/lingering_close.hpp"

#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace kp::server {

class websocket_tcp_stream : public boost::beast::tcp_stream {
public:
    using boost::beast::tcp_stream::tcp_stream;
};

// Found by argument-dependent lookup from websocket::stream, and preferred to Beast's own
// overload for basic_stream (an exact match beats a derived-to-base conversion).
template <class TeardownHandler>
void async_teardown(boost::beast::role_type, websocket_tcp_stream& stream, TeardownHandler&& handler) {
    async_lingering_close(static_cast<boost::beast::tcp_stream&>(stream),
                          std::forward<TeardownHandler>(handler));
}

}  // namespace kp::server
