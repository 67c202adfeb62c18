#pragma once
// The settings subscriber_access reads (PROTOCOL.md section 3), apart from the server's: the
// server fills them from --public-channels, --jwt-secret, --jwt-public-key, --kinto-url and
// --kinto-recheck.

#include <cstdint>
#include <optional>
#include <string>

namespace kp::server {

struct access_options {
    std::string public_channels;                 // comma-separated patterns, validated at start
    std::optional<std::string> jwt_secret;       // HS256
    std::optional<std::string> jwt_public_key;   // PEM file: RS256 or ES256
    std::optional<std::string> kinto_url;        // http(s)://host[:port][/path]
    std::int64_t kinto_recheck_s = 60;           // an allowed answer of Kinto holds this long at most
};

}  // namespace kp::server
