#pragma once
// The settings subscriber_access reads (PROTOCOL.md section 3), apart from the server's: the
// server fills them from --public-channels, --jwt-secret, --jwt-public-key and --kinto-url.

#include <optional>
#include <string>

namespace kp::server {

struct access_options {
    std::string public_channels;                 // comma-separated patterns, validated at start
    std::optional<std::string> jwt_secret;       // HS256
    std::optional<std::string> jwt_public_key;   // PEM file: RS256 or ES256
    std::optional<std::string> kinto_url;        // http(s)://host[:port][/path]
};

}  // namespace kp::server
