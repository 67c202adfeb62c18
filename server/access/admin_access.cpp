#include "server/access/admin_access.hpp"

#include "auth/constant_time.hpp"

#include <algorithm>

namespace kp::server {

namespace {

// The token of "Bearer <token>" (the scheme is case-insensitive, RFC 7235); nullopt for
// another scheme or an empty token.
std::optional<std::string_view> bearer_token(std::string_view authorization) {
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        char c = authorization[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != scheme[i]) return std::nullopt;
    }
    return authorization.substr(scheme.size());
}

}  // namespace

admin_access::admin_access(std::optional<std::string> admin_secret, subscriber_access const& subscribers)
    : secret_(std::move(admin_secret)), subscribers_(subscribers) {}

std::variant<admin_access::caller, admin_verdict> admin_access::identify(std::string_view authorization,
                                                                         bool loopback,
                                                                         std::int64_t now_s) const {
    auto const token = bearer_token(authorization);
    if (secret_ && token && auth::constant_time_equal(*token, *secret_)) return caller{true, {}};
    if (!secret_ && loopback) return caller{true, {}};
    if (!token) return admin_verdict::unauthorized;
    auto claims = subscribers_.verify_jwt(*token, now_s);
    if (!claims) return admin_verdict::unauthorized;
    if (!claims->webhooks) return admin_verdict::forbidden;
    return caller{false, std::move(claims->channels)};
}

bool admin_access::covers(caller const& who, std::string const& channel) {
    if (who.admin) return true;
    return std::any_of(who.channels.begin(), who.channels.end(),
                       [&](auth::channel_pattern const& p) { return p.matches(channel); });
}

bool admin_access::covers_all(caller const& who, std::vector<std::string> const& channels) {
    return std::all_of(channels.begin(), channels.end(),
                       [&](std::string const& channel) { return covers(who, channel); });
}

}  // namespace kp::server
