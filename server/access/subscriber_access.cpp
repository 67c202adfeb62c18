#include "server/access/subscriber_access.hpp"

#include "channels/channel_name.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

namespace kp::server {

namespace {

// Kinto's answers are cached: an allowed one for --kinto-recheck (a minute by default), a
// refusal for 10 s at most (someone just granted access should not wait long), at most
// 100,000 of them.
constexpr std::int64_t denied_ttl_ms = 10'000;
constexpr std::size_t cache_capacity = 100'000;

std::int64_t steady_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

bool looks_like_jwt(std::string_view token) {
    return std::count(token.begin(), token.end(), '.') == 2;
}

// --jwt-secret holds one secret a line (a rotation: the old and the new); blank lines are
// skipped, "\r\n" ends a line too. Nothing but blanks: one empty secret, which make() refuses.
std::vector<std::string> secret_lines(std::string const& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) out.push_back(std::move(line));
        start = end + 1;
    }
    if (out.empty()) out.emplace_back();
    return out;
}

}  // namespace

subscriber_access::subscriber_access(access_options const& options, kinto_factory const& make_kinto) {
    auto parsed = auth::public_channels::parse(options.public_channels);
    if (auto const* error = std::get_if<std::string>(&parsed)) throw std::runtime_error("--public-channels: " + *error);
    public_ = std::get<auth::public_channels>(std::move(parsed));
    bool const jwt_wanted = options.jwt_secret || options.jwt_public_key || options.jwt_jwks_url ||
                            options.jwt_audience || options.jwt_issuer;
    std::shared_ptr<auth::jwks_keyring> keyring;
    if (jwt_wanted) {
        auth::jwt_key_options keys;
        if (options.jwt_secret) keys.hs256_secrets = secret_lines(*options.jwt_secret);
        keys.public_key_pem_path = options.jwt_public_key;
        keys.audience = options.jwt_audience;
        keys.issuer = options.jwt_issuer;
        if (options.jwt_jwks_url) keys.jwks = keyring = std::make_shared<auth::jwks_keyring>();
        auto made = auth::jwt_verifier::make(std::move(keys));
        if (auto const* error = std::get_if<std::string>(&made)) throw std::runtime_error(*error);
        jwt_.emplace(std::get<auth::jwt_verifier>(std::move(made)));
    }
    if (options.kinto_url) {
        try {
            kinto_ = make_kinto(*options.kinto_url);
        } catch (std::invalid_argument const& e) {
            throw std::runtime_error(std::string("--kinto-url ") + e.what());
        }
        kinto_url_ = *options.kinto_url;
        std::int64_t const allowed_ttl_ms = options.kinto_recheck_s * 1000;
        decisions_ = std::make_unique<auth::decision_cache>(allowed_ttl_ms, std::min(denied_ttl_ms, allowed_ttl_ms),
                                                            cache_capacity);
    }
    if (options.jwt_jwks_url) {
        std::unique_ptr<kinto_api> http;
        try {
            http = make_kinto(*options.jwt_jwks_url);
        } catch (std::invalid_argument const& e) {
            throw std::runtime_error(std::string("--jwt-jwks-url ") + e.what());
        }
        jwks_ = std::make_shared<jwks_source>(
            jwks_source::settings{*options.jwt_jwks_url, std::chrono::seconds(options.jwt_jwks_refresh_min_s),
                                  std::chrono::seconds(options.jwt_jwks_refresh_s)},
            std::move(http), std::move(keyring));
    }
    development_ = public_->empty() && !jwt_ && !kinto_;
}

std::string subscriber_access::describe() const {
    if (development_) return "none (development mode: every channel is open)";
    std::string out;
    auto add = [&](std::string const& part) { out += (out.empty() ? "" : ", ") + part; };
    if (!public_->empty()) {
        std::string patterns;
        for (auto const& p : public_->patterns()) patterns += (patterns.empty() ? "" : " ") + p.str();
        add("public channels [" + patterns + "]");
    }
    if (jwt_) {
        std::string keys;
        auto key = [&](std::string const& part) { keys += (keys.empty() ? "" : ", ") + part; };
        if (jwt_->secret_count() == 1) key("HS256");
        if (jwt_->secret_count() > 1) key("HS256 with " + std::to_string(jwt_->secret_count()) + " secrets");
        if (jwt_->has_public_key()) key(jwt_->public_key_algorithm());
        if (jwt_->has_jwks()) key("RS256/ES256 from a JWKS");
        add("JWT (" + keys + ")");
    }
    if (kinto_) add("Kinto credentials checked at " + kinto_url_);
    return out;
}

void subscriber_access::start_key_refresh(boost::asio::any_io_executor control) {
    if (jwks_) jwks_->start(std::move(control));
}

void subscriber_access::stop_key_refresh() {
    if (jwks_) jwks_->stop();
}

std::string subscriber_access::jwt_refusal_reason(auth::jwt_failure failure) const {
    std::string reason = auth::jwt_verifier::describe(failure);
    if (failure == auth::jwt_failure::unknown_key && jwks_ && !jwks_->reachable())
        reason += "; the key set (JWKS) cannot be fetched";
    return reason;
}

std::variant<subscriber_identity, credential_refusal> subscriber_access::from_credential(std::string_view value,
                                                                                          std::int64_t now_s,
                                                                                          bool& unknown_kid) const {
    std::string_view token = value;
    bool const has_scheme = value.find(' ') != std::string_view::npos;
    if (starts_with_ci(value, "Bearer ")) {
        token = value.substr(7);
    } else if (has_scheme) {
        // Another HTTP scheme (Basic, Portier…): only Kinto can tell.
        if (!kinto_) return credential_refusal{access_decision::unauthorized, "only Bearer tokens are accepted here"};
        return subscriber_identity{std::nullopt, std::string(value), std::nullopt, std::nullopt};
    }
    if (token.empty()) return credential_refusal{access_decision::unauthorized, "empty token"};
    std::string jwt_reason;
    if (jwt_ && looks_like_jwt(token)) {
        auto verified = jwt_->verify(token, now_s);
        if (auto* claims = std::get_if<auth::jwt_claims>(&verified)) {
            subscriber_identity identity;
            identity.sub = claims->sub;
            identity.expires = claims->exp;
            identity.jwt = std::move(*claims);
            return identity;
        }
        auto const failure = std::get<auth::jwt_failure>(verified);
        if (failure == auth::jwt_failure::unknown_key && jwks_) unknown_kid = true;
        jwt_reason = jwt_refusal_reason(failure);
        // Not one of ours: it may still be a Kinto (OpenID) bearer token, below.
    } else if (jwt_) {
        jwt_reason = auth::jwt_verifier::describe(auth::jwt_failure::malformed);
    }
    if (!kinto_) {
        if (!jwt_) return credential_refusal{access_decision::unauthorized, "no credentials are checked on this server"};
        return credential_refusal{access_decision::unauthorized, jwt_reason};
    }
    return subscriber_identity{std::nullopt, "Bearer " + std::string(token), std::nullopt, std::nullopt};
}

std::optional<auth::jwt_claims> subscriber_access::verify_jwt(std::string_view token, std::int64_t now_s) const {
    if (!jwt_) return std::nullopt;
    auto verified = jwt_->verify(token, now_s);
    if (auto* claims = std::get_if<auth::jwt_claims>(&verified)) return std::move(*claims);
    if (jwks_ && std::get<auth::jwt_failure>(verified) == auth::jwt_failure::unknown_key) jwks_->refresh({}, {});
    return std::nullopt;
}

void subscriber_access::from_upgrade(std::string_view authorization, std::string_view access_token,
                                     std::int64_t now_s, boost::asio::any_io_executor executor,
                                     upgrade_identified done) const {
    std::string_view const credential = !authorization.empty() ? authorization : access_token;
    if (credential.empty())
        return boost::asio::post(executor, [done = std::move(done)] { done(std::nullopt); });
    with_fresh_keys(std::string(credential), now_s, std::move(executor),
                    [done = std::move(done)](std::variant<subscriber_identity, credential_refusal> result) {
                        done(std::move(result));
                    });
}

void subscriber_access::from_auth_frame(std::string const& token, std::int64_t now_s,
                                        boost::asio::any_io_executor executor, identified done) const {
    with_fresh_keys(token, now_s, executor,
                    [this, executor, done = std::move(done)](
                        std::variant<subscriber_identity, credential_refusal> result) mutable {
                        identify(std::move(result), std::move(executor), std::move(done));
                    });
}

void subscriber_access::with_fresh_keys(
    std::string credential, std::int64_t now_s, boost::asio::any_io_executor executor,
    std::function<void(std::variant<subscriber_identity, credential_refusal>)> done) const {
    bool unknown_kid = false;
    auto result = from_credential(credential, now_s, unknown_kid);
    if (!unknown_kid) {
        return boost::asio::post(executor, [done = std::move(done), result = std::move(result)]() mutable {
            done(std::move(result));
        });
    }
    // A kid the JWKS does not hold (yet): the keys may have rotated. Ask again once fetched.
    jwks_->refresh(executor, [this, credential = std::move(credential), now_s, done = std::move(done)](bool) {
        bool still_unknown = false;   // no second refresh: the client may retry later
        done(from_credential(credential, now_s, still_unknown));
    });
}

void subscriber_access::identify(std::variant<subscriber_identity, credential_refusal> result,
                                 boost::asio::any_io_executor executor, identified done) const {
    auto* identity = std::get_if<subscriber_identity>(&result);
    if (!identity || !identity->kinto_credential) {
        return boost::asio::post(executor, [done = std::move(done), result = std::move(result)]() mutable {
            done(std::move(result));
        });
    }
    // A Kinto credential: Kinto's root URL names the user it authenticates.
    std::string const credential = *identity->kinto_credential;   // before `identity` moves into the handler
    kinto_->get(executor, "/", credential,
                [done = std::move(done), found = std::move(*identity)](unsigned status, std::string body) mutable {
                    if (status == 0 || status >= 500) return done(access_decision::unavailable);
                    if (status != 200)
                        return done(credential_refusal{access_decision::unauthorized,
                                                       "Kinto did not accept them (HTTP " + std::to_string(status) + ")"});
                    auto doc = nlohmann::json::parse(body, nullptr, false);
                    auto const* user = doc.is_object() && doc.contains("user") ? &doc["user"] : nullptr;
                    if (!user || !user->is_object() || !user->contains("id") || !(*user)["id"].is_string())
                        return done(credential_refusal{access_decision::unauthorized, "Kinto named no user for them"});
                    found.sub = (*user)["id"].get<std::string>();
                    done(std::move(found));
                });
}

bool subscriber_access::delegated(subscriber_identity const& identity, std::string const& channel) const {
    if (development_ || !kinto_ || !identity.kinto_credential || public_->allows(channel) ||
        (identity.jwt && auth::jwt_verifier::allows(*identity.jwt, channel)))
        return false;
    auto const name = channels::channel_name::parse(channel);
    // The firehose is never delegated to Kinto: only a JWT that names it opens it.
    return name && name->type() != channels::channel_name::kind::firehose;
}

void subscriber_access::authorize(subscriber_identity const& identity, std::string const& channel,
                                  boost::asio::any_io_executor executor, decided done) {
    if (development_ || public_->allows(channel) ||
        (identity.jwt && auth::jwt_verifier::allows(*identity.jwt, channel)))
        return done(access_decision::allowed);
    if (!delegated(identity, channel))
        return done(identity.empty() ? access_decision::unauthorized : access_decision::forbidden);

    auto const& credential = *identity.kinto_credential;
    if (auto cached = decisions_->get(credential, channel, steady_ms()))
        return done(*cached ? access_decision::allowed : access_decision::forbidden);
    ask_kinto(credential, channel, std::move(executor), std::move(done));
}

void subscriber_access::recheck(subscriber_identity const& identity, std::string const& channel,
                                boost::asio::any_io_executor executor, decided done) {
    if (!delegated(identity, channel))
        return boost::asio::post(executor, [done = std::move(done)] { done(access_decision::allowed); });
    ask_kinto(*identity.kinto_credential, channel, std::move(executor), std::move(done));
}

void subscriber_access::ask_kinto(std::string const& credential, std::string const& channel,
                                  boost::asio::any_io_executor executor, decided done) {
    // The channel is its Kinto object's path: /buckets/{bid} or /buckets/{bid}/collections/{cid}.
    kinto_->get(executor, channel, credential,
                [this, credential, channel, done = std::move(done)](unsigned status, std::string) {
                    if (status == 200) {
                        decisions_->put(credential, channel, true, steady_ms());
                        return done(access_decision::allowed);
                    }
                    if (status == 401 || status == 403 || status == 404) {
                        decisions_->put(credential, channel, false, steady_ms());
                        return done(status == 401 ? access_decision::unauthorized : access_decision::forbidden);
                    }
                    done(access_decision::unavailable);
                });
}

}  // namespace kp::server
