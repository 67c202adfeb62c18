#include "auth/public_key.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

namespace kp::auth {

namespace {

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct md_ctx_free {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct ecdsa_sig_free {
    void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

bool digest_verify(EVP_PKEY* key, bool rsa_pkcs1, std::string_view data, unsigned char const* sig,
                   std::size_t sig_len) {
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    if (!ctx) return false;
    EVP_PKEY_CTX* pctx = nullptr;
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) return false;
    // RS256 is PKCS#1 v1.5 (RFC 7518 section 3.3); say so rather than trust the default.
    if (rsa_pkcs1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
    return EVP_DigestVerify(ctx.get(), sig, sig_len, reinterpret_cast<unsigned char const*>(data.data()),
                            data.size()) == 1;
}

}  // namespace

std::variant<public_key, std::string> public_key::adopt(EVP_PKEY* raw) {
    std::unique_ptr<EVP_PKEY, pkey_free> key(raw);
    type kind = type::rsa;
    if (EVP_PKEY_is_a(key.get(), "RSA")) {
        int bits = EVP_PKEY_get_bits(key.get());
        if (bits < 2048)
            return "RSA key of " + std::to_string(bits) + " bits; RS256 needs at least 2048 (RFC 7518)";
    } else if (EVP_PKEY_is_a(key.get(), "EC")) {
        char group[80] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_group_name(key.get(), group, sizeof group, &len) != 1)
            return std::string("EC key without a named curve; ES256 needs P-256");
        std::string_view name(group, len);
        if (name != "prime256v1" && name != "P-256" && name != "secp256r1")
            return "EC key on curve " + std::string(name) + "; ES256 needs P-256 (prime256v1)";
        kind = type::ec_p256;
    } else {
        char const* name = EVP_PKEY_get0_type_name(key.get());
        return std::string("unsupported key type ") + (name ? name : "?") +
               "; use an RSA key (RS256) or an EC P-256 key (ES256)";
    }
    return public_key(std::shared_ptr<EVP_PKEY>(key.release(), pkey_free{}), kind);
}

bool public_key::verifies(std::string_view alg, std::string_view signing_input, std::string_view signature) const {
    if (alg != algorithm()) return false;
    auto const* sig = reinterpret_cast<unsigned char const*>(signature.data());
    if (kind_ == type::rsa) return digest_verify(key_.get(), true, signing_input, sig, signature.size());

    // ES256 (RFC 7518 section 3.4): r and s as two 32-byte big-endian integers; OpenSSL
    // verifies the DER SEQUENCE of two INTEGERs, so re-encode.
    if (signature.size() != 64) return false;
    std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> ecdsa(ECDSA_SIG_new());
    if (!ecdsa) return false;
    BIGNUM* r = BN_bin2bn(sig, 32, nullptr);
    BIGNUM* s = BN_bin2bn(sig + 32, 32, nullptr);
    if (r == nullptr || s == nullptr || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    unsigned char* der = nullptr;
    int der_len = i2d_ECDSA_SIG(ecdsa.get(), &der);
    if (der_len <= 0) return false;
    bool ok = digest_verify(key_.get(), false, signing_input, der, static_cast<std::size_t>(der_len));
    OPENSSL_free(der);
    return ok;
}

}  // namespace kp::auth
