#pragma once
// Parses the RESP byte stream of one connection into replies with hiredis's reader
// (hiredis/read.h), fed with whatever the socket delivered.

#include "store/redis_reply.hpp"

#include <cstddef>
#include <optional>
#include <string>

struct redisReader;

namespace kp::store {

class redis_reply_reader {
public:
    redis_reply_reader();
    ~redis_reply_reader();
    redis_reply_reader(redis_reply_reader const&) = delete;
    redis_reply_reader& operator=(redis_reply_reader const&) = delete;

    // Adds bytes as they came from the socket. False when the reader already failed.
    bool feed(char const* data, std::size_t size);
    // The next complete reply, or nothing (need more bytes, or failed(): a protocol error).
    std::optional<redis_reply> next();

    bool failed() const { return !error_.empty(); }
    std::string const& error() const { return error_; }

private:
    redisReader* reader_;
    std::string error_;
};

}  // namespace kp::store
