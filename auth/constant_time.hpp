#pragma once
// Comparison of secrets that takes the same time wherever the first difference is.

#include <string_view>

namespace kp::auth {

// Compares SHA-256 digests of both sides with CRYPTO_memcmp, so neither the position of the
// first difference nor the secret's length leaks through timing.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace kp::auth
