#pragma once
// Who a WebSocket client is, from the credentials it gave (upgrade or `auth` frame).

#include "auth/jwt_claims.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace kp::server {

struct subscriber_identity {
    std::optional<auth::jwt_claims> jwt;           // a verified JWT
    std::optional<std::string> kinto_credential;   // an Authorization header value, checked by Kinto
    std::optional<std::string> sub;                // JWT `sub`, or the Kinto user id once known
    std::optional<std::int64_t> expires;           // JWT `exp` (unix seconds)

    bool empty() const { return !jwt && !kinto_credential; }
};

}  // namespace kp::server
