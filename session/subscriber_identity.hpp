#pragma once
// Who a subscriber is, from the credentials it gave (an upgrade, an `auth` frame, a URL).

#include "auth/jwt_claims.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace kp::session {

struct subscriber_identity {
    std::optional<auth::jwt_claims> jwt;           // a verified JWT
    std::optional<std::string> kinto_credential;   // an Authorization header value, checked by Kinto
    std::optional<std::string> sub;                // JWT `sub`, or the Kinto user id once known
    std::optional<std::int64_t> expires;           // JWT `exp` (unix seconds)

    bool empty() const { return !jwt && !kinto_credential; }
};

}  // namespace kp::session
