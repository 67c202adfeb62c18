#include "server/build_info.hpp"

#ifndef KINTO_PUSH_BUILD
#define KINTO_PUSH_BUILD "unknown"
#endif

namespace kp::server::build_info {

char const* version() {
    return KINTO_PUSH_VERSION;
}

char const* build_type() {
    return KINTO_PUSH_BUILD;
}

}  // namespace kp::server::build_info
