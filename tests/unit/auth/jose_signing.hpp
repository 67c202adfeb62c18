#pragma once
// Keys and signatures for JWT tests, made at test time with OpenSSL: one RSA 2048 key (and
// another), one EC P-256 key per test run; JWS signatures over HS256, RS256 and ES256; a
// compact token from a header, a payload and a signer. Shared by the auth/ and server/ tests.

#include "auth/base64url.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <functional>
#include <memory>
#include <string>

namespace kp::test {

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

// Key generation is slow in a debug build: one key of each kind per test run.
inline EVP_PKEY* rsa_key() {
    static pkey_ptr const key(EVP_RSA_gen(2048));
    REQUIRE(key != nullptr);
    return key.get();
}
inline EVP_PKEY* other_rsa_key() {
    static pkey_ptr const key(EVP_RSA_gen(2048));
    REQUIRE(key != nullptr);
    return key.get();
}
inline EVP_PKEY* ec_key() {
    static pkey_ptr const key(EVP_EC_gen("P-256"));
    REQUIRE(key != nullptr);
    return key.get();
}

inline std::string digest_sign(EVP_PKEY* key, std::string const& data) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1);
    std::size_t len = 0;
    auto const* in = reinterpret_cast<unsigned char const*>(data.data());
    REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) == 1);
    std::string sig(len, '\0');
    REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) ==
            1);
    sig.resize(len);
    return sig;
}

inline std::string hs256_sign(std::string const& secret, std::string const& data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      reinterpret_cast<unsigned char const*>(data.data()), data.size(), mac, sizeof mac,
                      &len) != nullptr);
    return std::string(reinterpret_cast<char*>(mac), len);
}

inline std::string es256_der_sign(EVP_PKEY* key, std::string const& data) {
    return digest_sign(key, data);
}

// JWS wants r||s, 32 bytes each; OpenSSL signs in DER.
inline std::string es256_sign(EVP_PKEY* key, std::string const& data) {
    std::string der = es256_der_sign(key, data);
    auto const* p = reinterpret_cast<unsigned char const*>(der.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), &ECDSA_SIG_free);
    REQUIRE(sig != nullptr);
    std::string raw(64, '\0');
    REQUIRE(BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), 32) ==
            32);
    REQUIRE(BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32,
                         32) == 32);
    return raw;
}

using signer = std::function<std::string(std::string const&)>;

inline signer hs256(std::string secret) {
    return [secret](std::string const& data) { return hs256_sign(secret, data); };
}
inline signer rs256(EVP_PKEY* key) {
    return [key](std::string const& data) { return digest_sign(key, data); };
}
inline signer es256(EVP_PKEY* key) {
    return [key](std::string const& data) { return es256_sign(key, data); };
}

inline std::string token(std::string const& header, std::string const& payload, signer const& sign) {
    std::string input = kp::auth::base64url::encode(header) + "." + kp::auth::base64url::encode(payload);
    return input + "." + kp::auth::base64url::encode(sign(input));
}

// A big-endian integer parameter of `key`, base64url, `width` bytes (0: as short as it goes).
inline std::string key_number(EVP_PKEY* key, char const* name, int width = 0) {
    BIGNUM* bn = nullptr;
    REQUIRE(EVP_PKEY_get_bn_param(key, name, &bn) == 1);
    std::string bytes(width ? width : BN_num_bytes(bn), '\0');
    REQUIRE(BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) ==
            static_cast<int>(bytes.size()));
    BN_free(bn);
    return kp::auth::base64url::encode(bytes);
}

// The public JWK (RFC 7517) of an RSA or EC P-256 key, named `kid`.
inline nlohmann::json public_jwk(EVP_PKEY* key, std::string const& kid) {
    if (EVP_PKEY_is_a(key, "RSA"))
        return {{"kty", "RSA"}, {"kid", kid}, {"n", key_number(key, OSSL_PKEY_PARAM_RSA_N)},
                {"e", key_number(key, OSSL_PKEY_PARAM_RSA_E)}};
    return {{"kty", "EC"}, {"kid", kid}, {"crv", "P-256"}, {"x", key_number(key, OSSL_PKEY_PARAM_EC_PUB_X, 32)},
            {"y", key_number(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)}};
}

}  // namespace kp::test
