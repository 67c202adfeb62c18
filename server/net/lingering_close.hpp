#pragma once
// Closing a TCP connection whose peer may still be sending: stop sending, read and discard
// what arrives (bounded in bytes and time) until the peer closes, then close. Closing with
// unread data would make the kernel send a reset, and the peer would lose the answer (a 413,
// a WebSocket close frame) that was written just before.

#include <boost/asio/compose.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>

namespace kp::server {

// How long and how much a lingering close waits for and discards.
inline constexpr std::chrono::seconds linger_time{3};
inline constexpr std::size_t linger_bytes = 16 * 1024 * 1024;

namespace detail {

struct lingering_close_op {
    boost::beast::tcp_stream& stream;
    std::unique_ptr<std::array<char, 16384>> buffer = std::make_unique<std::array<char, 16384>>();
    std::size_t drained = 0;
    bool started = false;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code ec = {}, std::size_t bytes = 0) {
        if (!started) {
            started = true;
            boost::beast::error_code ignored;
            stream.socket().shutdown(boost::asio::socket_base::shutdown_send, ignored);
            stream.expires_after(linger_time);
        } else {
            drained += bytes;
            if (ec || drained >= linger_bytes) {
                boost::beast::error_code ignored;
                stream.socket().close(ignored);
                return self.complete({});
            }
        }
        stream.async_read_some(boost::asio::buffer(*buffer), std::move(self));
    }
};

}  // namespace detail

// Completes with no error once the connection is closed.
template <class Handler>
auto async_lingering_close(boost::beast::tcp_stream& stream, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(
        detail::lingering_close_op{stream}, handler, stream);
}

}  // namespace kp::server
