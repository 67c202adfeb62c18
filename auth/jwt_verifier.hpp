#pragma once
// Verifies subscriber JWTs (compact JWS, RFC 7515/7519) against the configured keys:
// `--jwt-secret` (HS256) and/or `--jwt-public-key` (a PEM file: RSA -> RS256, EC P-256 -> ES256).
//
// make(secret, pem_path): at least one must be given; an empty secret is refused. The PEM
// file may hold a public key ("PUBLIC KEY" or "RSA PUBLIC KEY") or a certificate. RSA keys
// under 2048 bits, EC keys on other curves and other key types are refused. Errors name the
// option, the file and the problem: meant for a start-up error.
//
// verify(token, now_s), `token` being the bare JWT (no "Bearer " prefix), in this order:
//   malformed              empty, over 8192 bytes, not three '.'-separated parts, a part that is
//                          not canonical unpadded base64url, a header that is not a JSON object
//                          or has no string `alg`, a `typ` other than "JWT" (any case), a
//                          `crit` header, or (after the signature) a payload that is not JSON
//   unsupported_algorithm  `alg` is not one the configured keys allow: HS256 needs the secret,
//                          RS256 an RSA key, ES256 an EC key. `none` and everything else
//                          always fail, so an RS256 verifier never takes HS256 tokens (the
//                          public key as an HMAC secret) and vice versa
//   bad_signature          the signature does not verify (ES256: raw r||s, 64 bytes)
//   bad_claims             the payload is not an object, or `exp`/`nbf` are not numbers
//                          (integer or fraction, within +-2^53), `sub` not a string, `channels`
//                          not a list of valid channel patterns (channel_pattern; `/buckets`,
//                          the firehose, is allowed here), `webhooks` not a boolean
//   missing_exp            no `exp` (checked before the types of the other claims)
//   expired                now_s >= exp + 30 (30 s leeway for clock skew)
//   not_yet_valid          now_s < nbf - 30
// Claims are read only once the signature verified. `iat`, `iss`, `aud`, `kid` and other
// members are ignored, and keys embedded in the header (`jwk`, `jku`, `x5u`) are never used.
//
// describe(failure) is a short client-facing reason that never echoes the token.
// allows(claims, channel): one of the token's channel patterns matches `channel`.
// verify() is const and safe to call from several threads at once.

#include "auth/jwt_claims.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

typedef struct evp_pkey_st EVP_PKEY;

namespace kp::auth {

enum class jwt_failure {
    malformed,
    unsupported_algorithm,
    bad_signature,
    expired,
    not_yet_valid,
    missing_exp,
    bad_claims
};

class jwt_verifier {
public:
    static constexpr std::size_t max_token_bytes = 8192;
    static constexpr std::int64_t leeway_s = 30;

    static std::variant<jwt_verifier, std::string> make(std::optional<std::string> hs256_secret,
                                                        std::optional<std::string> public_key_pem_path);

    std::variant<jwt_claims, jwt_failure> verify(std::string_view token, std::int64_t now_s) const;

    static char const* describe(jwt_failure failure);
    static bool allows(jwt_claims const& claims, std::string_view channel);

    bool has_secret() const { return secret_.has_value(); }
    bool has_public_key() const { return key_ != nullptr; }
    // "RS256" or "ES256" when a public key is configured, "" otherwise (for the start-up log).
    char const* public_key_algorithm() const;

private:
    enum class key_kind { none, rsa, ec_p256 };

    jwt_verifier(std::optional<std::string> secret, std::shared_ptr<EVP_PKEY> key, key_kind kind)
        : secret_(std::move(secret)), key_(std::move(key)), kind_(kind) {}

    bool verify_signature_(std::string_view alg, std::string_view signing_input,
                           std::string_view signature) const;

    std::optional<std::string> secret_;
    std::shared_ptr<EVP_PKEY> key_;  // shared, read-only: copies of the verifier share it
    key_kind kind_;
};

}  // namespace kp::auth
