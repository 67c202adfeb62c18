#include "auth/hmac_sha256.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace kp::auth {

namespace {

// Fetched once: EVP_MAC_fetch looks the algorithm up in the provider tables on every call.
// Kept for the life of the process; EVP_MAC objects may be shared between threads.
EVP_MAC* hmac_algorithm() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

struct mac_ctx_free {
    void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

}  // namespace

std::optional<sha256_mac> hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts) {
    EVP_MAC* mac = hmac_algorithm();
    if (mac == nullptr) return std::nullopt;
    std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> ctx(EVP_MAC_CTX_new(mac));
    if (!ctx) return std::nullopt;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    // A non-null pointer even for an empty key: EVP_MAC_init treats a null key as "keep the
    // previous one", and there is none.
    static unsigned char const empty = 0;
    auto const* key_bytes = key.empty() ? &empty : reinterpret_cast<unsigned char const*>(key.data());
    if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1) return std::nullopt;
    for (std::string_view part : parts) {
        if (EVP_MAC_update(ctx.get(), reinterpret_cast<unsigned char const*>(part.data()), part.size()) != 1)
            return std::nullopt;
    }
    sha256_mac out{};
    std::size_t len = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) return std::nullopt;
    return out;
}

}  // namespace kp::auth
