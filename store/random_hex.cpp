#include "store/random_hex.hpp"

#include "text/hex.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace kp::store {

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
        throw std::runtime_error("OpenSSL RAND_bytes failed");
    return text::hex_encode(raw);
}

}  // namespace kp::store
