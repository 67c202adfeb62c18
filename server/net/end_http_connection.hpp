#pragma once
// Ends an HTTP connection after its last answer: over TLS, close_notify bounded by 3 s (the
// socket closes with its owner); in the clear, a lingering close, so that a peer still
// sending reads the answer instead of a reset. `keep` holds the owner of `stream` until done.

#include "server/net/lingering_close.hpp"

#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <type_traits>

namespace kp::server {

template <class Stream, class Keep>
void end_http_connection(Stream& stream, Keep keep) {
    if constexpr (std::is_same_v<Stream, boost::beast::tcp_stream>) {
        async_lingering_close(stream, [keep = std::move(keep)](boost::beast::error_code) {});
    } else {
        boost::beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(3));
        stream.async_shutdown([keep = std::move(keep)](boost::beast::error_code) {});
    }
}

}  // namespace kp::server
