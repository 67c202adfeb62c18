#pragma once
// Hashing for keys that are already cryptographic digests: their first bytes are uniform, so
// they are the hash.

#include <array>
#include <cstddef>
#include <cstring>

namespace kp::auth {

struct digest_hash {
    template <std::size_t N>
    std::size_t operator()(std::array<unsigned char, N> const& digest) const {
        static_assert(N >= sizeof(std::size_t));
        std::size_t h = 0;
        std::memcpy(&h, digest.data(), sizeof h);
        return h;
    }
};

}  // namespace kp::auth
