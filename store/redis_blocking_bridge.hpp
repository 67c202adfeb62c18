#pragma once
// A blocking call into the Redis event loop from another thread (the ingest thread, the
// blocking pool): the commands are started on the loop's thread, the caller waits for every
// reply, up to a deadline.

#include "store/redis_reply.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace kp::store {

class redis_blocking_bridge {
public:
    using reply_handler = std::function<void(redis_reply)>;
    // Runs on the event loop's thread: sends the i-th command, its reply to `handler`.
    using issue = std::function<void(std::size_t i, reply_handler handler)>;

    // `where` names the endpoint in error messages.
    redis_blocking_bridge(boost::asio::io_context& io, std::chrono::milliseconds timeout, std::string where);

    // Any thread but the loop's: `count` commands, one reply each, in order. Throws store_error
    // when they are not all answered within the deadline (a lost link answers with errors).
    std::vector<redis_reply> call(std::size_t count, issue send);

private:
    boost::asio::io_context& io_;
    std::chrono::milliseconds timeout_;
    std::string where_;
};

}  // namespace kp::store
