#include "store/redis_reply_reader.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <new>

namespace kp::store {

namespace {

redis_reply copy(redisReply const& r) {
    redis_reply out;
    switch (r.type) {
    case REDIS_REPLY_STRING:
        out.type = redis_reply::kind::string;
        out.text.assign(r.str, r.len);
        break;
    case REDIS_REPLY_STATUS:
        out.type = redis_reply::kind::status;
        out.text.assign(r.str, r.len);
        break;
    case REDIS_REPLY_ERROR:
        out.type = redis_reply::kind::error;
        out.text.assign(r.str, r.len);
        break;
    case REDIS_REPLY_INTEGER:
        out.type = redis_reply::kind::integer;
        out.integer = r.integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = redis_reply::kind::array;
        out.elements.reserve(r.elements);
        for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(copy(*r.element[i]));
        break;
    default:
        out.type = redis_reply::kind::nil;
        break;
    }
    return out;
}

}  // namespace

redis_reply_reader::redis_reply_reader() : reader_(redisReaderCreate()) {
    if (!reader_) throw std::bad_alloc();
}

redis_reply_reader::~redis_reply_reader() {
    redisReaderFree(reader_);
}

bool redis_reply_reader::feed(char const* data, std::size_t size) {
    if (failed()) return false;
    if (redisReaderFeed(reader_, data, size) != REDIS_OK) {
        error_ = reader_->errstr[0] ? reader_->errstr : "cannot buffer the reply";
        return false;
    }
    return true;
}

std::optional<redis_reply> redis_reply_reader::next() {
    if (failed()) return std::nullopt;
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
        error_ = reader_->errstr[0] ? reader_->errstr : "protocol error";
        return std::nullopt;
    }
    if (!raw) return std::nullopt;
    auto* reply = static_cast<redisReply*>(raw);
    redis_reply out = copy(*reply);
    freeReplyObject(reply);
    return out;
}

}  // namespace kp::store
