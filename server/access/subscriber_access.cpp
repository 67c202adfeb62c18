#include "server/access/subscriber_access.hpp"

#include "channels/channel_name.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>

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

}  // namespace

subscriber_access::subscriber_access(access_options const& options, kinto_factory const& make_kinto) {
    auto parsed = auth::public_channels::parse(options.public_channels);
    if (auto const* error = std::get_if<std::string>(&parsed)) throw std::runtime_error("--public-channels: " + *error);
    public_ = std::get<auth::public_channels>(std::move(parsed));
    if (options.jwt_secret || options.jwt_public_key) {
        auto made = auth::jwt_verifier::make(options.jwt_secret, options.jwt_public_key);
        if (auto const* error = std::get_if<std::string>(&made)) throw std::runtime_error(*error);
        jwt_.emplace(std::get<auth::jwt_verifier>(std::move(made)));
    }
    if (options.kinto_url) {
        try {
            kinto_ = make_kinto(*options.kinto_url);
        } catch (std::invalid_argument const& e) {
            throw std::runtime_error(e.what());
        }
        kinto_url_ = *options.kinto_url;
        std::int64_t const allowed_ttl_ms = options.kinto_recheck_s * 1000;
        decisions_ = std::make_unique<auth::decision_cache>(allowed_ttl_ms, std::min(denied_ttl_ms, allowed_ttl_ms),
                                                            cache_capacity);
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
        std::string algs = jwt_->has_secret() ? "HS256" : "";
        if (jwt_->has_public_key()) algs += std::string(algs.empty() ? "" : "/") + jwt_->public_key_algorithm();
        add("JWT (" + algs + ")");
    }
    if (kinto_) add("Kinto credentials checked at " + kinto_url_);
    return out;
}

std::variant<subscriber_identity, credential_refusal> subscriber_access::from_credential(std::string_view value,
                                                                                          std::int64_t now_s) const {
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
        jwt_reason = auth::jwt_verifier::describe(std::get<auth::jwt_failure>(verified));
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
    return std::nullopt;
}

std::optional<std::variant<subscriber_identity, credential_refusal>> subscriber_access::from_upgrade(
    std::string_view authorization, std::string_view access_token, std::int64_t now_s) const {
    if (!authorization.empty()) return from_credential(authorization, now_s);
    if (!access_token.empty()) return from_credential(access_token, now_s);
    return std::nullopt;
}

void subscriber_access::from_auth_frame(std::string const& token, std::int64_t now_s,
                                        boost::asio::any_io_executor executor, identified done) const {
    auto result = from_credential(token, now_s);
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
