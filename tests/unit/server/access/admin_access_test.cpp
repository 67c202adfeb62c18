// server/access/admin_access: the credentials of the admin endpoints (PROTOCOL.md sections 7
// and 8): the admin secret, loopback without one, and subscriber JWTs with `webhooks: true`.

#include "auth/base64url.hpp"
#include "server/access/admin_access.hpp"
#include "server/access/subscriber_access.hpp"

#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>

using kp::auth::base64url;
using kp::server::access_options;
using kp::server::admin_access;
using kp::server::admin_verdict;
using kp::server::subscriber_access;

namespace {

constexpr std::int64_t now = 1717000000;
std::string const jwt_secret = "admin-access-test-jwt-secret";
std::string const admin_secret = "admin-secret-of-the-test";

std::string hs256_token(std::string const& payload, std::string const& key = jwt_secret) {
    std::string input = base64url::encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url::encode(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                      reinterpret_cast<unsigned char const*>(input.data()), input.size(), mac, sizeof mac,
                      &len) != nullptr);
    return input + "." + base64url::encode(std::string(reinterpret_cast<char*>(mac), len));
}

std::string bearer_jwt(std::string const& extra_claims, std::int64_t exp = now + 3600,
                       std::string const& key = jwt_secret) {
    return "Bearer " + hs256_token(R"({"sub":"ops","exp":)" + std::to_string(exp) + extra_claims + "}", key);
}

subscriber_access make_subscribers(bool with_jwt) {
    access_options options;
    if (with_jwt) options.jwt_secret = jwt_secret;
    return subscriber_access(options, [](std::string const&) -> std::unique_ptr<kp::server::kinto_api> {
        throw std::logic_error("no Kinto in these tests");
    });
}

admin_verdict verdict_of(std::variant<admin_access::caller, admin_verdict> const& result) {
    auto const* verdict = std::get_if<admin_verdict>(&result);
    REQUIRE(verdict != nullptr);
    return *verdict;
}

admin_access::caller caller_of(std::variant<admin_access::caller, admin_verdict> const& result) {
    auto const* who = std::get_if<admin_access::caller>(&result);
    REQUIRE(who != nullptr);
    return *who;
}

}  // namespace

TEST_CASE("admin_access: the admin secret makes an admin, from anywhere", "[admin_access]") {
    auto subscribers = make_subscribers(true);
    admin_access access(admin_secret, subscribers);
    CHECK(access.has_secret());
    for (bool loopback : {false, true}) {
        CAPTURE(loopback);
        CHECK(caller_of(access.identify("Bearer " + admin_secret, loopback, now)).admin);
        CHECK(caller_of(access.identify("bearer " + admin_secret, loopback, now)).admin);   // scheme in any case
        CHECK(caller_of(access.identify("BEARER " + admin_secret, loopback, now)).admin);
        // Anything else: 401, loopback included once a secret is set.
        CHECK(verdict_of(access.identify("", loopback, now)) == admin_verdict::unauthorized);
        CHECK(verdict_of(access.identify("Bearer " + admin_secret + "x", loopback, now)) == admin_verdict::unauthorized);
        CHECK(verdict_of(access.identify("Bearer " + admin_secret.substr(1), loopback, now)) ==
              admin_verdict::unauthorized);
        CHECK(verdict_of(access.identify("Bearer ", loopback, now)) == admin_verdict::unauthorized);
        CHECK(verdict_of(access.identify("Basic " + admin_secret, loopback, now)) == admin_verdict::unauthorized);
        CHECK(verdict_of(access.identify(admin_secret, loopback, now)) == admin_verdict::unauthorized);
    }
}

TEST_CASE("admin_access: without an admin secret, loopback peers are admins and others are not", "[admin_access]") {
    auto subscribers = make_subscribers(false);
    admin_access access(std::nullopt, subscribers);
    CHECK_FALSE(access.has_secret());
    CHECK(caller_of(access.identify("", true, now)).admin);
    CHECK(caller_of(access.identify("Bearer whatever", true, now)).admin);
    CHECK(verdict_of(access.identify("", false, now)) == admin_verdict::unauthorized);
    CHECK(verdict_of(access.identify("Bearer whatever", false, now)) == admin_verdict::unauthorized);
    // No JWT key configured: a JWT proves nothing.
    CHECK(verdict_of(access.identify(bearer_jwt(R"(,"webhooks":true,"channels":["/buckets"])"), false, now)) ==
          admin_verdict::unauthorized);
}

TEST_CASE("admin_access: a subscriber JWT with webhooks:true covers its channels only", "[admin_access]") {
    auto subscribers = make_subscribers(true);
    for (auto const& secret : {std::optional<std::string>(admin_secret), std::optional<std::string>()}) {
        CAPTURE(secret.has_value());
        admin_access access(secret, subscribers);
        auto who = caller_of(access.identify(
            bearer_jwt(R"(,"webhooks":true,"channels":["/buckets/blog","/buckets/news/collections/*"])"), false, now));
        CHECK_FALSE(who.admin);
        REQUIRE(who.channels.size() == 2);
        CHECK(admin_access::covers(who, "/buckets/blog"));
        CHECK(admin_access::covers(who, "/buckets/news/collections/articles"));
        CHECK_FALSE(admin_access::covers(who, "/buckets/blog/collections/articles"));
        CHECK_FALSE(admin_access::covers(who, "/buckets/news"));
        CHECK_FALSE(admin_access::covers(who, "/buckets"));
        CHECK(admin_access::covers_all(who, {"/buckets/blog", "/buckets/news/collections/a"}));
        CHECK_FALSE(admin_access::covers_all(who, {"/buckets/blog", "/buckets/other"}));
        CHECK(admin_access::covers_all(who, {}));

        // Valid JWTs without the claim, or with it false: 403.
        CHECK(verdict_of(access.identify(bearer_jwt(R"(,"channels":["/buckets/blog"])"), false, now)) ==
              admin_verdict::forbidden);
        CHECK(verdict_of(access.identify(bearer_jwt(R"(,"webhooks":false,"channels":["/buckets/blog"])"), false, now)) ==
              admin_verdict::forbidden);
        // Invalid JWTs: 401 (expired, wrong key, webhooks not a boolean).
        CHECK(verdict_of(access.identify(bearer_jwt(R"(,"webhooks":true)", now - 3600), false, now)) ==
              admin_verdict::unauthorized);
        CHECK(verdict_of(access.identify(bearer_jwt(R"(,"webhooks":true)", now + 3600, "another-key"), false, now)) ==
              admin_verdict::unauthorized);
        CHECK(verdict_of(access.identify(bearer_jwt(R"(,"webhooks":"yes")"), false, now)) ==
              admin_verdict::unauthorized);
    }
    // The JWT with no channels claim covers nothing.
    admin_access access(admin_secret, subscribers);
    auto empty = caller_of(access.identify(bearer_jwt(R"(,"webhooks":true)"), false, now));
    CHECK_FALSE(admin_access::covers(empty, "/buckets/blog"));
}

TEST_CASE("admin_access: an admin covers every channel", "[admin_access]") {
    admin_access::caller admin{true, {}};
    CHECK(admin_access::covers(admin, "/buckets"));
    CHECK(admin_access::covers(admin, "/buckets/blog/collections/articles"));
    CHECK(admin_access::covers_all(admin, {"/buckets", "/buckets/x"}));
}
