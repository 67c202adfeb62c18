#pragma once
// Who may POST events: the holder of the publish secret (Authorization: Bearer, compared in
// constant time, or a Kinto-Push-Signature HMAC of the body made with it) or, when no secret
// is configured, any loopback client.

#include "auth/signature_verifier.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kp::auth {

class publisher_auth {
public:
    enum class verdict { allowed, missing, invalid };

    explicit publisher_auth(std::optional<std::string> secret);

    // `authorization` is the header's value ("" when absent); `loopback` says the peer
    // address is 127.0.0.0/8 or ::1.
    verdict check(std::string_view authorization, bool loopback) const;

    // A Kinto-Push-Signature header (only when a secret is configured). Thread-safe; each
    // accepted signature is remembered for the window, so a replay is refused.
    signature_verifier::verdict check_signature(std::string_view header, std::string_view body,
                                                std::int64_t now_s) const;

    bool has_secret() const { return secret_.has_value(); }

private:
    std::optional<std::string> secret_;
    std::unique_ptr<signature_verifier> signatures_;   // its replay cache changes on const checks
};

}  // namespace kp::auth
