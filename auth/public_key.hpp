#pragma once
// A public key that verifies subscriber JWTs: RSA of 2048 bits or more (RS256) or EC on P-256
// (ES256), whatever it was read from (a PEM file, auth/jwt_verifier; a JWKS document,
// auth/jwks_keys). Shared and read-only: copies share the OpenSSL key.

#include <memory>
#include <string>
#include <string_view>
#include <variant>

typedef struct evp_pkey_st EVP_PKEY;

namespace kp::auth {

class public_key {
public:
    enum class type { rsa, ec_p256 };

    // Takes ownership of `key` (never null). The key, or why it cannot verify JWTs ("RSA key of
    // 1024 bits; RS256 needs at least 2048 (RFC 7518)").
    static std::variant<public_key, std::string> adopt(EVP_PKEY* key);

    EVP_PKEY* get() const { return key_.get(); }
    type kind() const { return kind_; }
    // "RS256" or "ES256".
    char const* algorithm() const { return kind_ == type::rsa ? "RS256" : "ES256"; }

    // Does the JWS signature `signature` (ES256: raw r||s, 64 bytes) of `signing_input` verify
    // with this key under `alg`? False when `alg` is not this key's algorithm.
    bool verifies(std::string_view alg, std::string_view signing_input, std::string_view signature) const;

private:
    public_key(std::shared_ptr<EVP_PKEY> key, type kind) : key_(std::move(key)), kind_(kind) {}

    std::shared_ptr<EVP_PKEY> key_;
    type kind_;
};

}  // namespace kp::auth
