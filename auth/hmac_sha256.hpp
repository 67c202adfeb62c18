#pragma once
// HMAC-SHA256 through OpenSSL's EVP_MAC, fed in parts so that a large body is never copied
// just to prefix it (the publisher signature covers "<t>.<body>").

#include <array>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace kp::auth {

using sha256_mac = std::array<unsigned char, 32>;

// The MAC of the concatenated `parts` under `key`; nullopt only when OpenSSL fails (out of
// memory, or a provider that refuses the key). Safe to call from any thread.
std::optional<sha256_mac> hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts);

}  // namespace kp::auth
