#pragma once
// The verification keys of a JWK Set (RFC 7517 section 5), as an identity provider publishes
// them at its JWKS URL (--jwt-jwks-url): socket-free, the fetching is server/access/jwks_source.
//
// parse(document): a JSON object whose `keys` is an array of JWKs. A key is used when it has a
// non-empty string `kid` (tokens name their key by it), `use` absent or "sig", and either
//   kty "RSA" with `n` and `e` (base64url big-endian integers; 2048 bits or more)   -> RS256
//   kty "EC"  with crv "P-256", `x` and `y` (32 bytes each, a point on the curve)   -> ES256
// and `alg`, when present, that key type's algorithm. Other keys (encryption keys, other key
// types or curves, a `kid` seen before: the first one counts) are skipped and listed in
// skipped(), one reason each; their presence is normal in providers' sets. An error (a
// message, for the log) when the document is not JSON, has no `keys` array, is over
// max_document_bytes, holds over max_keys keys, or leaves no usable key.

#include "auth/public_key.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kp::auth {

class jwks_keys {
public:
    static constexpr std::size_t max_document_bytes = 1024 * 1024;
    static constexpr std::size_t max_keys = 100;

    static std::variant<jwks_keys, std::string> parse(std::string_view document);

    // The key named `kid`, or null.
    public_key const* find(std::string_view kid) const;

    std::size_t size() const { return keys_.size(); }
    // "k1 (RS256), k2 (ES256)", for the log.
    std::string describe() const;
    // Why each unused key was skipped ("key 3 (kid enc-1): use is enc, not sig").
    std::vector<std::string> const& skipped() const { return skipped_; }

private:
    struct entry {
        std::string kid;
        public_key key;
    };

    jwks_keys() = default;

    std::vector<entry> keys_;
    std::vector<std::string> skipped_;
};

}  // namespace kp::auth
