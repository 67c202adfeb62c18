#pragma once
// Which channels a subscriber may hear (PROTOCOL.md section 3): public channel patterns, JWT
// claims and Kinto delegation, combined (any one that allows is enough); with none of them
// configured, development mode: every channel is open.

#include "auth/decision_cache.hpp"
#include "auth/jwt_verifier.hpp"
#include "auth/public_channels.hpp"
#include "server/access/access_options.hpp"
#include "server/access/jwks_source.hpp"
#include "server/access/kinto_api.hpp"
#include "session/access_decision.hpp"
#include "session/credential_refusal.hpp"
#include "session/subscriber_identity.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace kp::server {

using session::access_decision;
using session::credential_refusal;
using session::subscriber_identity;

class subscriber_access {
public:
    using decided = std::function<void(access_decision)>;
    using identified = std::function<void(std::variant<subscriber_identity, credential_refusal>)>;
    // Makes the HTTP client of a base URL (never null): the Kinto of options.kinto_url, and the
    // JWKS endpoint of options.jwt_jwks_url (GET of path ""); throws std::invalid_argument
    // naming the URL when it cannot be used.
    using kinto_factory = std::function<std::unique_ptr<kinto_api>(std::string const& base_url)>;

    // Throws std::runtime_error naming the option when a pattern, a key file or the Kinto URL
    // cannot be used (checked in that order). `make_kinto` is called only for the URLs that
    // are set.
    subscriber_access(access_options const& options, kinto_factory const& make_kinto);

    // --jwt-jwks-url: the first fetch of the keys, then their refreshes, on `control` (the
    // server's control loop); stop_key_refresh() ends them, on that loop's thread. Nothing
    // without a JWKS URL.
    void start_key_refresh(boost::asio::any_io_executor control);
    void stop_key_refresh();

    bool development_mode() const { return development_; }
    bool has_jwt() const { return jwt_.has_value(); }
    bool has_kinto() const { return kinto_ != nullptr; }
    bool has_public_channels() const { return !public_->empty(); }
    std::string describe() const;   // the modes, for the start-up log

    using upgrade_found = std::optional<std::variant<subscriber_identity, credential_refusal>>;
    using upgrade_identified = std::function<void(upgrade_found)>;
    // Credentials of an upgrade request (WebSocket, SSE, history): the Authorization header,
    // else ?access_token=. `done` gets nullopt when there are none, a credential_refusal
    // (unauthorized, with the reason: "token expired", …, never the token) when they are
    // invalid. A JWT naming a `kid` the JWKS does not hold waits until the JWKS was fetched
    // again (the keys may have rotated; at most every --jwt-jwks-refresh-min, within the
    // fetch's 5 s timeout) and is verified once more. `done` runs on `executor`, never before
    // from_upgrade() returns.
    void from_upgrade(std::string_view authorization, std::string_view access_token, std::int64_t now_s,
                      boost::asio::any_io_executor executor, upgrade_identified done) const;

    // A bare JWT (no "Bearer "), verified with --jwt-secret / --jwt-public-key: its claims, or
    // nullopt when it does not verify or no JWT key is configured (the admin endpoints use it).
    std::optional<auth::jwt_claims> verify_jwt(std::string_view token, std::int64_t now_s) const;

    // The token of an `auth` frame: a JWT, or the value of a Kinto Authorization header. A
    // Kinto credential is checked against Kinto (GET {kinto}/) for the user id; a JWT naming a
    // `kid` the JWKS does not hold is verified again once the JWKS was fetched again (at most
    // every --jwt-jwks-refresh-min). `done` runs on `executor`.
    void from_auth_frame(std::string const& token, std::int64_t now_s, boost::asio::any_io_executor executor,
                         identified done) const;

    // May `identity` hear `channel`? Answers at once when it can (public, JWT, cache), else asks
    // Kinto; `done` runs on `executor`, possibly before authorize() returns.
    void authorize(subscriber_identity const& identity, std::string const& channel,
                   boost::asio::any_io_executor executor, decided done);

    // Is `channel`, which `identity` was allowed, still allowed (PROTOCOL.md section 3,
    // "Authorization that ends")? A channel that only Kinto opens to these credentials is asked
    // about at Kinto again, without the cache (whose answer may be as old as the recheck period),
    // and the answer refreshes the cache; any other is `allowed` at once. `done` always runs
    // on `executor`, never before recheck() returns.
    void recheck(subscriber_identity const& identity, std::string const& channel,
                 boost::asio::any_io_executor executor, decided done);

private:
    // Whether only Kinto can allow `channel` to `identity` (its answer decides).
    bool delegated(subscriber_identity const& identity, std::string const& channel) const;
    // GET the channel's Kinto object with the identity's credentials; the answer is cached.
    void ask_kinto(std::string const& credential, std::string const& channel, boost::asio::any_io_executor executor,
                   decided done);

    // A credential: "Bearer <JWT or opaque token>", another Kinto scheme ("Basic …"), or a bare
    // token (?access_token=, auth frames). A JWT whose kid the JWKS does not hold sets
    // `unknown_kid` (with_fresh_keys() then fetches the JWKS again and asks once more).
    std::variant<subscriber_identity, credential_refusal> from_credential(std::string_view value, std::int64_t now_s,
                                                                       bool& unknown_kid) const;
    // The client-facing reason of a JWT refused for `failure`.
    std::string jwt_refusal_reason(auth::jwt_failure failure) const;
    // A credential (an upgrade's or an auth frame's), verified again once the JWKS was fetched
    // again when its JWT names a kid the set does not hold; `done` runs on `executor`.
    void with_fresh_keys(std::string credential, std::int64_t now_s, boost::asio::any_io_executor executor,
                         std::function<void(std::variant<subscriber_identity, credential_refusal>)> done) const;
    // The auth frame's credentials, once known (the Kinto user looked up when they are Kinto's).
    void identify(std::variant<subscriber_identity, credential_refusal> result, boost::asio::any_io_executor executor,
                  identified done) const;

    bool development_ = true;
    std::optional<auth::public_channels> public_;
    std::optional<auth::jwt_verifier> jwt_;
    std::shared_ptr<jwks_source> jwks_;   // --jwt-jwks-url
    std::string kinto_url_;
    std::unique_ptr<kinto_api> kinto_;
    std::unique_ptr<auth::decision_cache> decisions_;
};

}  // namespace kp::server
