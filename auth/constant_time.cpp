#include "auth/constant_time.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace kp::auth {

bool constant_time_equal(std::string_view a, std::string_view b) {
    unsigned char da[EVP_MAX_MD_SIZE];
    unsigned char db[EVP_MAX_MD_SIZE];
    unsigned int la = 0;
    unsigned int lb = 0;
    if (EVP_Digest(a.data(), a.size(), da, &la, EVP_sha256(), nullptr) != 1) return false;
    if (EVP_Digest(b.data(), b.size(), db, &lb, EVP_sha256(), nullptr) != 1) return false;
    return la == lb && CRYPTO_memcmp(da, db, la) == 0;
}

}  // namespace kp::auth
