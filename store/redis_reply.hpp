#pragma once
// One Redis reply, owned: a copy of what hiredis's reader built, so it can cross threads.

#include <cstdint>
#include <string>
#include <vector>

namespace kp::store {

struct redis_reply {
    enum class kind { string, status, error, integer, nil, array };
    kind type = kind::nil;
    std::string text;                    // string, status, error
    std::int64_t integer = 0;            // integer
    std::vector<redis_reply> elements;   // array

    bool is_error() const { return type == kind::error; }
    static redis_reply error(std::string message) {
        redis_reply r;
        r.type = kind::error;
        r.text = std::move(message);
        return r;
    }
};

}  // namespace kp::store
