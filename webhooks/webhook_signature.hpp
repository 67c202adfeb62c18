#pragma once
// Standard Webhooks (standardwebhooks.com) on the sending side: secrets, the signature of one
// attempt, and the `webhook-id` of a delivery.
//
// A secret is "whsec_" followed by the standard, padded base64 of its key. A signature is
// "v1,<base64 of HMAC-SHA256(key, msg_id + "." + timestamp + "." + body)>".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kp::webhooks {

// The prefix of every secret.
inline constexpr std::string_view secret_prefix = "whsec_";

// "whsec_" + base64 of 32 random bytes (OpenSSL's RAND_bytes; throws std::runtime_error
// when it fails).
std::string generate_secret();

// "whsec_" + strict base64 of a key of 24 to 64 bytes.
bool valid_secret(std::string_view secret);

// "v1,<base64 signature>" of one attempt; nullopt when `secret` is not valid (or OpenSSL fails).
std::optional<std::string> sign(std::string_view secret, std::string_view msg_id, std::int64_t timestamp_s,
                                std::string_view body);

// "msg_" + 32 lower-case hex digits of SHA-256 over the parts, each prefixed with its length:
// the same inputs give the same id in every process (retries and restarts resend the same id),
// different inputs different ids. `kind` is the body's type (kinto.event, kinto.events,
// kinto.resync).
std::string delivery_id(std::string_view webhook_id, std::string_view epoch, std::string_view channel,
                        std::uint64_t first, std::uint64_t last, std::string_view kind);

}  // namespace kp::webhooks
