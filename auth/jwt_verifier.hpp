#pragma once
// Verifies subscriber JWTs (compact JWS, RFC 7515/7519) against the configured keys:
// `--jwt-secret` (HS256; several during a rotation), `--jwt-public-key` (a PEM file: RSA ->
// RS256, EC P-256 -> ES256) and/or `--jwt-jwks-url` (keys fetched by server/access/jwks_source
// into a jwks_keyring, read here).
//
// make(options): at least one kind of key must be given; an empty secret, audience or issuer is
// refused. The PEM file may hold a public key ("PUBLIC KEY" or "RSA PUBLIC KEY") or a
// certificate. RSA keys under 2048 bits, EC keys on other curves and other key types are
// refused (auth/public_key). Errors name the option, the file and the problem: meant for a
// start-up error. make(secret, pem_path) is the one-secret, one-file form.
//
// verify(token, now_s), `token` being the bare JWT (no "Bearer " prefix), in this order:
//   malformed              empty, over 8192 bytes, not three '.'-separated parts, a part that is
//                          not canonical unpadded base64url, a header that is not a JSON object
//                          or has no string `alg`, a `typ` other than "JWT" (any case), a
//                          `crit` header, a `kid` that is not a string, or (after the
//                          signature) a payload that is not JSON
//   unsupported_algorithm  `alg` is not one the configured keys allow: HS256 needs a secret,
//                          RS256 an RSA key, ES256 an EC key (a PEM key of that type, or a
//                          JWKS). `none` and everything else always fail, so an RS256 verifier
//                          never takes HS256 tokens (the public key as an HMAC secret) and vice
//                          versa
//   missing_kid            RS256/ES256 with a JWKS and no PEM key of that type, and no `kid`
//   unknown_key            the `kid` is not in the JWKS (nor, when a PEM key of that type is
//                          configured, does that key verify the token): the caller may
//                          refresh the JWKS and verify again
//   algorithm_mismatch     the JWKS key named by `kid` is of another type than `alg` says
//   bad_signature          the signature does not verify (HS256: with none of the secrets;
//                          ES256: raw r||s, 64 bytes)
//   bad_claims             the payload is not an object, or `exp`/`nbf` are not numbers
//                          (integer or fraction, within +-2^53), `sub` not a string, `channels`
//                          not a list of valid channel patterns (channel_pattern; `/buckets`,
//                          the firehose, is allowed here), `webhooks` not a boolean
//   missing_exp            no `exp` (checked before the types of the other claims)
//   expired                now_s >= exp + 30 (30 s leeway for clock skew)
//   not_yet_valid          now_s < nbf - 30
//   wrong_issuer           --jwt-issuer is set and `iss` is not that string
//   wrong_audience         --jwt-audience is set and `aud` is neither that string nor an array
//                          holding it
// Claims are read only once the signature verified. `iat`, and `iss`/`aud` when not
// configured, are ignored; keys embedded in the header (`jwk`, `jku`, `x5u`) are never used.
//
// describe(failure) is a short client-facing reason that never echoes the token.
// allows(claims, channel): one of the token's channel patterns matches `channel`.
// verify() is const and safe to call from several threads at once (the keyring is locked).

#include "auth/jwt_claims.hpp"
#include "auth/public_key.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kp::auth {

enum class jwt_failure {
    malformed,
    unsupported_algorithm,
    bad_signature,
    expired,
    not_yet_valid,
    missing_exp,
    bad_claims,
    missing_kid,
    unknown_key,
    algorithm_mismatch,
    wrong_audience,
    wrong_issuer
};

class jwks_keyring;

struct jwt_key_options {
    std::vector<std::string> hs256_secrets;          // --jwt-secret, one or more
    std::optional<std::string> public_key_pem_path;  // --jwt-public-key
    std::shared_ptr<jwks_keyring const> jwks;        // --jwt-jwks-url: its keys, fetched elsewhere
    std::optional<std::string> audience;             // --jwt-audience
    std::optional<std::string> issuer;               // --jwt-issuer
};

class jwt_verifier {
public:
    static constexpr std::size_t max_token_bytes = 8192;
    static constexpr std::int64_t leeway_s = 30;

    static std::variant<jwt_verifier, std::string> make(jwt_key_options options);
    static std::variant<jwt_verifier, std::string> make(std::optional<std::string> hs256_secret,
                                                        std::optional<std::string> public_key_pem_path);

    std::variant<jwt_claims, jwt_failure> verify(std::string_view token, std::int64_t now_s) const;

    static char const* describe(jwt_failure failure);
    static bool allows(jwt_claims const& claims, std::string_view channel);

    bool has_secret() const { return !options_.hs256_secrets.empty(); }
    std::size_t secret_count() const { return options_.hs256_secrets.size(); }
    bool has_public_key() const { return key_.has_value(); }
    bool has_jwks() const { return options_.jwks != nullptr; }
    // "RS256" or "ES256" when a public key is configured, "" otherwise (for the start-up log).
    char const* public_key_algorithm() const;

private:
    explicit jwt_verifier(jwt_key_options options) : options_(std::move(options)) {}

    bool secret_verifies(std::string_view signing_input, std::string_view signature) const;

    jwt_key_options options_;
    std::optional<public_key> key_;   // --jwt-public-key (shared, read-only: copies share it)
};

}  // namespace kp::auth
