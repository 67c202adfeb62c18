#pragma once
// The buffers of one gathered write (several queued frames or SSE lines in one system call),
// borrowed from the thread's spares while a write is in flight and given back after it, so an
// idle connection holds none and a warm shard allocates nothing per write.

#include "session/send_queue.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace kp::server {

// Up to this many queued frames leave in one system call.
using gather_array = std::array<boost::asio::const_buffer, 16>;

// A gather array from this thread's spares (a new one when there is none).
std::unique_ptr<gather_array> take_gather();
// Back to this thread's spares (at most 4,096 are kept).
void give_back(std::unique_ptr<gather_array> gather);

// Writes every frame `queue` holds, up to the gather size, in one system call: marks them as
// the write in flight, borrows `gather` for their buffers (the handler gives it back with
// give_back(), then calls queue.written()).
template <class Stream, class Handler>
void write_queued(Stream& stream, session::send_queue& queue, std::unique_ptr<gather_array>& gather,
                  Handler&& handler) {
    std::size_t n = 0;
    gather = take_gather();
    auto& buffers = *gather;
    queue.start_write(buffers.size(), [&](std::string const& frame) { buffers[n++] = boost::asio::buffer(frame); });
    boost::asio::async_write(stream, std::span<boost::asio::const_buffer const>(buffers.data(), n),
                             std::forward<Handler>(handler));
}

}  // namespace kp::server
