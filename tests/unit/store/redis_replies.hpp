#pragma once
// Redis replies built by hand, as hiredis would hand them over: for the tests of what reads
// them (redis_wire_format, redis_publish_call).

#include "store/redis_reply.hpp"

#include <string>
#include <utility>
#include <vector>

namespace kp::test {

inline store::redis_reply integer_reply(long long value) {
    store::redis_reply r;
    r.type = store::redis_reply::kind::integer;
    r.integer = value;
    return r;
}

inline store::redis_reply bulk(std::string text) {
    store::redis_reply r;
    r.type = store::redis_reply::kind::string;
    r.text = std::move(text);
    return r;
}

inline store::redis_reply array(std::vector<store::redis_reply> elements) {
    store::redis_reply r;
    r.type = store::redis_reply::kind::array;
    r.elements = std::move(elements);
    return r;
}

}  // namespace kp::test
