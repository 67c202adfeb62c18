#pragma once
// The version of a broadcast as Remote Settings publishes it: a Kinto timestamp in double
// quotes, like an ETag ("\"1717000000456\""). Firefox strips the quotes and polls Kinto
// with `_expected=<timestamp>`.

#include <cstdint>
#include <string>

namespace kp::push {

std::string broadcast_version(std::int64_t timestamp);

}  // namespace kp::push
