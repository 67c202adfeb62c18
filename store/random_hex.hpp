#pragma once
// Random identifiers (epochs, session ids) from OpenSSL's CSPRNG.

#include <cstddef>
#include <string>

namespace kp::store {

// `bytes` random bytes as 2*bytes lowercase hex digits.
std::string random_hex(std::size_t bytes);

}  // namespace kp::store
