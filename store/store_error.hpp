#pragma once
// A store that cannot answer: publishers get 503 and nothing is half-stored.

#include <stdexcept>

namespace kp::store {

class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace kp::store
