#pragma once
// The buffers of one gathered write (several queued frames or SSE lines in one system call),
// borrowed from the thread's spares while a write is in flight and given back after it, so an
// idle connection holds none and a warm shard allocates nothing per write.

#include <boost/asio/buffer.hpp>

#include <array>
#include <memory>

namespace kp::server {

// Up to this many queued frames leave in one system call.
using gather_array = std::array<boost::asio::const_buffer, 16>;

// A gather array from this thread's spares (a new one when there is none).
std::unique_ptr<gather_array> take_gather();
// Back to this thread's spares (at most 4,096 are kept).
void give_back(std::unique_ptr<gather_array> gather);

}  // namespace kp::server
