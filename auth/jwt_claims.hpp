#pragma once
// What a verified subscriber JWT grants (PROTOCOL.md section 3): who, until when, and which
// channels. Built only by jwt_verifier::verify, after the signature and the claim types
// were checked.

#include "auth/channel_pattern.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kp::auth {

struct jwt_claims {
    std::optional<std::string> sub;
    // Unix seconds, rounded down when the token had a fraction.
    std::int64_t exp = 0;
    // Unix seconds, rounded up when the token had a fraction.
    std::optional<std::int64_t> nbf;
    // From the `channels` claim; empty when absent. May include the firehose /buckets.
    std::vector<channel_pattern> channels;
    // From the `webhooks` claim (a boolean; false when absent): the token may also manage
    // webhooks and read channel information for its channels (PROTOCOL.md sections 7 and 8).
    bool webhooks = false;
};

}  // namespace kp::auth
