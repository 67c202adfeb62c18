#pragma once
// Who may use the admin endpoints, /v1/webhooks and /v1/channels (PROTOCOL.md sections 7
// and 8), without a socket:
//   - `Authorization: Bearer <--admin-secret>` (compared in constant time): everything;
//   - no --admin-secret configured and a loopback peer: everything (as publishing without
//     --publish-secret); with --admin-secret set, a loopback peer needs it like anyone else;
//   - `Authorization: Bearer <subscriber JWT>` whose `webhooks` claim is true: the channels its
//     `channels` patterns allow, and only those;
//   - a valid subscriber JWT without `webhooks: true`: forbidden (403);
//   - nothing, another scheme, a wrong secret, a JWT that does not verify: unauthorized (401).

#include "auth/channel_pattern.hpp"
#include "server/access/subscriber_access.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kp::server {

enum class admin_verdict {
    allowed,
    unauthorized,   // 401: no credentials, or invalid ones
    forbidden       // 403: valid credentials that do not allow this
};

class admin_access {
public:
    // `subscribers` lends its JWT verifier; it must outlive this object.
    admin_access(std::optional<std::string> admin_secret, subscriber_access const& subscribers);

    struct caller {
        bool admin = false;                          // the admin secret, or loopback: everything
        std::vector<auth::channel_pattern> channels; // a JWT with webhooks:true: what it covers
    };

    // `authorization` is the header's value ("" when absent); `loopback`: the peer is
    // 127.0.0.0/8 or ::1. Thread-safe.
    std::variant<caller, admin_verdict> identify(std::string_view authorization, bool loopback,
                                                 std::int64_t now_s) const;

    bool has_secret() const { return secret_.has_value(); }

    // The caller is an admin, or one of its patterns allows `channel`.
    static bool covers(caller const& who, std::string const& channel);
    // covers() for each channel (true for an empty list).
    static bool covers_all(caller const& who, std::vector<std::string> const& channels);

private:
    std::optional<std::string> secret_;
    subscriber_access const& subscribers_;
};

}  // namespace kp::server
