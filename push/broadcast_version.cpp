#include "push/broadcast_version.hpp"

namespace kp::push {

std::string broadcast_version(std::int64_t timestamp) {
    return '"' + std::to_string(timestamp) + '"';
}

}  // namespace kp::push
