#pragma once
// The settings subscriber_access reads (PROTOCOL.md section 3), apart from the server's: the
// server fills them from --public-channels, --jwt-*, --kinto-url and --kinto-recheck.

#include <cstdint>
#include <optional>
#include <string>

namespace kp::server {

struct access_options {
    std::string public_channels;                 // comma-separated patterns, validated at start
    std::optional<std::string> jwt_secret;       // HS256: one secret a line (several during a rotation)
    std::optional<std::string> jwt_public_key;   // PEM file: RS256 or ES256
    std::optional<std::string> jwt_jwks_url;     // JWK Set: RS256 and ES256 keys named by kid
    std::int64_t jwt_jwks_refresh_min_s = 30;    // an unknown kid fetches the set again, at most this often
    std::int64_t jwt_jwks_refresh_s = 300;       // and the set is fetched this often anyway
    std::optional<std::string> jwt_audience;     // `aud` must name it, when set
    std::optional<std::string> jwt_issuer;       // `iss` must be it, when set
    std::optional<std::string> kinto_url;        // http(s)://host[:port][/path]
    std::int64_t kinto_recheck_s = 60;           // an allowed answer of Kinto holds this long at most
};

}  // namespace kp::server
