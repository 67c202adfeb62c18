// server/access/subscriber_access: public channels, JWT and Kinto delegation combined, with a
// scripted Kinto behind kinto_api and a plain io_context (no sockets).

#include "auth/base64url.hpp"
#include "server/access/kinto_client.hpp"
#include "server/access/subscriber_access.hpp"
#include "tests/unit/server/access/scripted_kinto.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

using kp::auth::base64url;
using kp::server::access_decision;
using kp::server::access_options;
using kp::server::credential_refusal;
using kp::server::kinto_api;
using kp::server::subscriber_access;
using kp::server::subscriber_identity;
using kp::test::kinto_script;
using kp::test::scripted_kinto;

namespace {

constexpr std::int64_t now = 1717000000;
std::string const secret = "access-test-secret";
std::string const kinto_url = "http://kinto.test/v1";

// --- JWTs, made as tests/unit/auth/jwt_verifier_test.cpp makes them ---

std::string hs256_sign(std::string const& key, std::string const& data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                      reinterpret_cast<unsigned char const*>(data.data()), data.size(), mac, sizeof mac,
                      &len) != nullptr);
    return std::string(reinterpret_cast<char*>(mac), len);
}

std::string hs256_token(std::string const& payload, std::string const& key = secret) {
    std::string input = base64url::encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url::encode(payload);
    return input + "." + base64url::encode(hs256_sign(key, input));
}

// A token for `sub` that opens `channels` (a JSON list) until `exp`.
std::string jwt_for(std::string const& sub, std::string const& channels, std::int64_t exp = now + 3600) {
    return hs256_token(R"({"sub":")" + sub + R"(","exp":)" + std::to_string(exp) + R"(,"channels":)" + channels + "}");
}

// A subscriber_access over the scripted Kinto, and the io_context its completions run on.
struct rig {
    explicit rig(access_options const& options)
        : kinto(std::make_shared<kinto_script>()),
          access(options, [script = kinto](std::string const& base_url) {
              script->made_for.push_back(base_url);
              return std::make_unique<scripted_kinto>(script);
          }) {}

    access_decision authorize(subscriber_identity const& identity, std::string const& channel) {
        std::optional<access_decision> got;
        access.authorize(identity, channel, io.get_executor(), [&](access_decision d) { got = d; });
        io.restart();
        io.run();
        REQUIRE(got.has_value());
        return *got;
    }

    access_decision recheck(subscriber_identity const& identity, std::string const& channel) {
        std::optional<access_decision> got;
        access.recheck(identity, channel, io.get_executor(), [&](access_decision d) { got = d; });
        CHECK_FALSE(got.has_value());   // always on the executor
        io.restart();
        io.run();
        REQUIRE(got.has_value());
        return *got;
    }

    std::variant<subscriber_identity, credential_refusal> from_auth_frame(std::string const& token) {
        std::optional<std::variant<subscriber_identity, credential_refusal>> got;
        access.from_auth_frame(token, now, io.get_executor(), [&](auto result) { got = std::move(result); });
        CHECK_FALSE(got.has_value());   // always on the executor
        io.restart();
        io.run();
        REQUIRE(got.has_value());
        return *got;
    }

    std::optional<std::variant<subscriber_identity, credential_refusal>> upgrade(std::string const& authorization,
                                                                                 std::string const& access_token = "") {
        std::optional<std::optional<std::variant<subscriber_identity, credential_refusal>>> got;
        access.from_upgrade(authorization, access_token, now, io.get_executor(), [&](auto found) { got = std::move(found); });
        CHECK_FALSE(got.has_value());   // always on the executor
        io.restart();
        io.run();
        REQUIRE(got.has_value());
        return *got;
    }

    subscriber_identity upgrade_identity(std::string const& authorization, std::string const& access_token = "") {
        auto found = upgrade(authorization, access_token);
        REQUIRE(found.has_value());
        auto const* identity = std::get_if<subscriber_identity>(&*found);
        REQUIRE(identity != nullptr);
        return *identity;
    }

    boost::asio::io_context io;
    std::shared_ptr<kinto_script> kinto;
    subscriber_access access;
};

access_options with_jwt() {
    access_options options;
    options.jwt_secret = secret;
    return options;
}

access_options with_kinto() {
    access_options options;
    options.kinto_url = kinto_url;
    return options;
}

access_decision decision_of(std::variant<subscriber_identity, credential_refusal> const& result) {
    auto const* refusal = std::get_if<credential_refusal>(&result);
    REQUIRE(refusal != nullptr);
    return refusal->decision;
}

std::string start_up_error(access_options const& options) {
    try {
        subscriber_access access(options, [](std::string const& base_url) {
            return std::make_unique<kp::server::kinto_client>(base_url);
        });
    } catch (std::runtime_error const& e) {
        return e.what();
    }
    FAIL("the options were accepted");
    return {};
}

}  // namespace

TEST_CASE("subscriber_access: nothing configured is development mode, every channel open", "[access]") {
    rig r{access_options{}};
    CHECK(r.access.development_mode());
    CHECK_FALSE(r.access.has_jwt());
    CHECK_FALSE(r.access.has_kinto());
    CHECK_FALSE(r.access.has_public_channels());
    CHECK(r.access.describe() == "none (development mode: every channel is open)");
    CHECK(r.kinto->made_for.empty());

    CHECK(r.authorize({}, "/buckets/anything/collections/at-all") == access_decision::allowed);
    CHECK(r.authorize({}, "/buckets") == access_decision::allowed);
    CHECK(r.kinto->calls.empty());
}

TEST_CASE("subscriber_access: public channels need no credentials", "[access]") {
    access_options options;
    options.public_channels = "/buckets/main/collections/*, /buckets/blog";
    rig r{options};
    CHECK_FALSE(r.access.development_mode());
    CHECK(r.access.has_public_channels());
    CHECK(r.access.describe() == "public channels [/buckets/main/collections/* /buckets/blog]");

    CHECK(r.authorize({}, "/buckets/main/collections/cfr") == access_decision::allowed);
    CHECK(r.authorize({}, "/buckets/blog") == access_decision::allowed);
    // Anyone else: no credentials is unauthorized, not forbidden.
    CHECK(r.authorize({}, "/buckets/main") == access_decision::unauthorized);
    CHECK(r.authorize({}, "/buckets/blog/collections/drafts") == access_decision::unauthorized);
    CHECK(r.authorize({}, "/buckets") == access_decision::unauthorized);
}

TEST_CASE("subscriber_access: start-up errors name the option, in order", "[access]") {
    access_options options;
    options.public_channels = "/buckets";
    auto const firehose = start_up_error(options);
    CHECK(firehose.rfind("--public-channels: ", 0) == 0);
    CHECK(firehose.find("firehose") != std::string::npos);

    options = {};
    options.jwt_secret = "";
    CHECK(start_up_error(options) == "--jwt-secret is empty");
    options = {};
    options.jwt_public_key = "/nonexistent/kinto-push-access-test.pem";
    CHECK(start_up_error(options).rfind("--jwt-public-key /nonexistent/kinto-push-access-test.pem: ", 0) == 0);

    // The real kinto_client refuses the URL; subscriber_access reports it as a start-up error.
    options = {};
    options.kinto_url = "ftp://kinto.test/v1";
    CHECK(start_up_error(options) == "--kinto-url ftp://kinto.test/v1: must be http(s)://host[:port][/path]");

    // A bad pattern is reported before the Kinto URL, which is then never used.
    options.public_channels = "/buckets/blog-*";
    CHECK(start_up_error(options).rfind("--public-channels: ", 0) == 0);
    std::vector<std::string> made_for;
    CHECK_THROWS_AS(subscriber_access(options,
                                      [&](std::string const& base_url) -> std::unique_ptr<kinto_api> {
                                          made_for.push_back(base_url);
                                          return nullptr;
                                      }),
                    std::runtime_error);
    CHECK(made_for.empty());
}

TEST_CASE("subscriber_access: a JWT opens the channels its patterns name", "[access]") {
    rig r{with_jwt()};
    CHECK(r.access.has_jwt());
    CHECK_FALSE(r.access.has_kinto());
    CHECK(r.access.describe() == "JWT (HS256)");

    auto const exp = now + 600;
    auto const identity = r.upgrade_identity("Bearer " + jwt_for("alice", R"(["/buckets/main/collections/*"])", exp));
    REQUIRE(identity.jwt.has_value());
    CHECK(identity.sub == "alice");
    CHECK(identity.expires == exp);
    CHECK_FALSE(identity.kinto_credential.has_value());

    CHECK(r.authorize(identity, "/buckets/main/collections/cfr") == access_decision::allowed);
    CHECK(r.authorize(identity, "/buckets/main") == access_decision::forbidden);
    CHECK(r.authorize(identity, "/buckets/other/collections/cfr") == access_decision::forbidden);
    CHECK(r.authorize(identity, "/buckets") == access_decision::forbidden);

    // The firehose opens only to a token that names it.
    auto const firehose = r.upgrade_identity("Bearer " + jwt_for("ops", R"(["/buckets"])"));
    CHECK(r.authorize(firehose, "/buckets") == access_decision::allowed);
    CHECK(r.authorize(firehose, "/buckets/main") == access_decision::forbidden);

    // The scheme is case-insensitive.
    CHECK(r.upgrade_identity("bearer " + jwt_for("bob", "[]")).sub == "bob");
}

TEST_CASE("subscriber_access: expired, malformed or foreign tokens are refused", "[access]") {
    rig r{with_jwt()};
    auto refused = [&](std::string const& authorization) {
        auto found = r.upgrade(authorization);
        REQUIRE(found.has_value());
        return decision_of(*found);
    };
    // Expired beyond the 30 s leeway.
    CHECK(refused("Bearer " + jwt_for("alice", "[]", now - 31)) == access_decision::unauthorized);
    CHECK(refused("Bearer not.a.jwt") == access_decision::unauthorized);
    CHECK(refused("Bearer opaque-token") == access_decision::unauthorized);
    CHECK(refused("Bearer ") == access_decision::unauthorized);
    CHECK(refused("Bearer " + hs256_token(R"({"sub":"eve","exp":)" + std::to_string(now + 60) + "}", "other-secret")) ==
          access_decision::unauthorized);
    // Another scheme only Kinto could check, and there is no Kinto.
    CHECK(refused("Basic YWxpY2U6cGFzcw==") == access_decision::unauthorized);
    // Within the leeway, still good.
    CHECK(r.upgrade_identity("Bearer " + jwt_for("alice", "[]", now - 29)).sub == "alice");
}

TEST_CASE("subscriber_access: a refused credential says why, never echoing the token", "[access][refusals]") {
    rig r{with_jwt()};
    auto reason = [&](std::string const& authorization) {
        auto found = r.upgrade(authorization);
        REQUIRE(found.has_value());
        auto const* refusal = std::get_if<credential_refusal>(&*found);
        REQUIRE(refusal != nullptr);
        CHECK(refusal->decision == access_decision::unauthorized);
        CHECK(refusal->message().size() <= 123);   // fits a WebSocket close reason
        CHECK(refusal->message().find(authorization.substr(authorization.find(' ') + 1)) == std::string::npos);
        return refusal->message();
    };
    auto const later = std::to_string(now + 600);
    CHECK(reason("Bearer " + jwt_for("alice", "[]", now - 31)) == "invalid credentials: token expired");
    CHECK(reason("Bearer " + hs256_token(R"({"exp":)" + later + R"(,"nbf":)" + later + "}")) ==
          "invalid credentials: token not valid yet (nbf)");
    CHECK(reason("Bearer " + hs256_token(R"({"exp":)" + later + "}", "other-secret")) ==
          "invalid credentials: invalid token signature");
    CHECK(reason("Bearer " + base64url::encode(R"({"alg":"none","typ":"JWT"})") + "." +
                 base64url::encode(R"({"exp":)" + later + "}") + ".") ==
          "invalid credentials: token algorithm not accepted by this server");
    CHECK(reason("Bearer " + hs256_token(R"({"sub":"alice"})")) == "invalid credentials: token has no expiry (exp)");
    CHECK(reason("Bearer not.a.jwt") == "invalid credentials: malformed token");
    CHECK(reason("Bearer opaque-token") == "invalid credentials: malformed token");
    CHECK(reason("Basic YWxpY2U6cGFzcw==") == "invalid credentials: only Bearer tokens are accepted here");
}

TEST_CASE("subscriber_access: an auth frame Kinto refuses says so", "[access][refusals]") {
    rig r{with_kinto()};
    r.kinto->replies["/"] = {401, R"({"code":401})"};
    auto const result = r.from_auth_frame("Basic YWxpY2U6cGFzcw==");
    auto const* refusal = std::get_if<credential_refusal>(&result);
    REQUIRE(refusal != nullptr);
    CHECK(refusal->message() == "invalid credentials: Kinto did not accept them (HTTP 401)");
}

TEST_CASE("subscriber_access: from_upgrade prefers the header to ?access_token", "[access]") {
    rig r{with_jwt()};
    auto const from_header = jwt_for("header-user", "[]");
    auto const from_query = jwt_for("query-user", "[]");

    CHECK_FALSE(r.upgrade("").has_value());
    CHECK(r.upgrade_identity("Bearer " + from_header, from_query).sub == "header-user");
    CHECK(r.upgrade_identity("", from_query).sub == "query-user");   // a bare token
    CHECK(r.upgrade_identity("", "Bearer " + from_query).sub == "query-user");

    // A bad header is not rescued by a good ?access_token.
    auto bad = r.upgrade("Bearer nope", from_query);
    REQUIRE(bad.has_value());
    CHECK(decision_of(*bad) == access_decision::unauthorized);
}

TEST_CASE("subscriber_access: Kinto credentials go to Kinto as they came", "[access]") {
    auto options = with_kinto();
    options.jwt_secret = secret;
    rig r{options};
    CHECK(r.kinto->made_for == std::vector<std::string>{kinto_url});
    CHECK(r.access.has_kinto());
    CHECK(r.access.describe() == "JWT (HS256), Kinto credentials checked at " + kinto_url);

    CHECK(r.upgrade_identity("Basic YWxpY2U6cGFzcw==").kinto_credential == "Basic YWxpY2U6cGFzcw==");
    CHECK(r.upgrade_identity("Bearer opaque-token").kinto_credential == "Bearer opaque-token");
    CHECK(r.upgrade_identity("", "opaque-token").kinto_credential == "Bearer opaque-token");
    // A JWT that is not ours may be a Kinto (OpenID) token.
    auto const foreign = hs256_token(R"({"sub":"x","exp":)" + std::to_string(now + 60) + "}", "other-secret");
    auto const identity = r.upgrade_identity("Bearer " + foreign);
    CHECK_FALSE(identity.jwt.has_value());
    CHECK(identity.kinto_credential == "Bearer " + foreign);
    CHECK(r.kinto->calls.empty());   // nothing asked until a subscribe or an auth frame
}

TEST_CASE("subscriber_access: Kinto's status is the decision", "[access]") {
    rig r{with_kinto()};
    struct row {
        char const* bid;
        unsigned status;
        access_decision expected;
    };
    std::vector<row> const rows{
        {"readable", 200, access_decision::allowed},     {"secret", 403, access_decision::forbidden},
        {"missing", 404, access_decision::forbidden},    {"expired", 401, access_decision::unauthorized},
        {"broken", 500, access_decision::unavailable},   {"overloaded", 503, access_decision::unavailable},
        {"unreachable", 0, access_decision::unavailable}, {"moved", 302, access_decision::unavailable},
        {"odd", 400, access_decision::unavailable},
    };
    for (auto const& [bid, status, _] : rows) r.kinto->replies["/buckets/" + std::string(bid)] = {status, "{}"};

    auto const identity = r.upgrade_identity("Basic YWxpY2U6cGFzcw==");
    for (auto const& [bid, status, expected] : rows) {
        INFO("status " << status);
        auto const channel = "/buckets/" + std::string(bid);
        auto const calls_before = r.kinto->calls.size();
        CHECK(r.authorize(identity, channel) == expected);
        REQUIRE(r.kinto->calls.size() == calls_before + 1);
        CHECK(r.kinto->calls.back().path == channel);
        CHECK(r.kinto->calls.back().authorization == "Basic YWxpY2U6cGFzcw==");
    }
}

TEST_CASE("subscriber_access: Kinto is asked only for what it can answer", "[access]") {
    auto options = with_kinto();
    options.jwt_secret = secret;
    options.public_channels = "/buckets/blog";
    rig r{options};
    auto const kinto_user = r.upgrade_identity("Basic YWxpY2U6cGFzcw==");

    CHECK(r.authorize(kinto_user, "/buckets/blog") == access_decision::allowed);   // public
    CHECK(r.authorize(kinto_user, "/buckets") == access_decision::forbidden);     // never delegated
    CHECK(r.authorize(kinto_user, "/buckets/bad id") == access_decision::forbidden);
    CHECK(r.authorize({}, "/buckets/main") == access_decision::unauthorized);      // no credentials
    auto const jwt_user = r.upgrade_identity("Bearer " + jwt_for("alice", R"(["/buckets/a"])"));
    CHECK(r.authorize(jwt_user, "/buckets/a") == access_decision::allowed);
    CHECK(r.authorize(jwt_user, "/buckets/b") == access_decision::forbidden);
    CHECK(r.kinto->calls.empty());
}

TEST_CASE("subscriber_access: Kinto's decisions are cached per credential and channel", "[access]") {
    rig r{with_kinto()};
    r.kinto->replies["/buckets/open"] = {200, "{}"};
    r.kinto->replies["/buckets/closed"] = {403, "{}"};
    r.kinto->replies["/buckets/expired"] = {401, "{}"};
    r.kinto->replies["/buckets/down"] = {503, "{}"};
    auto const alice = r.upgrade_identity("Basic YWxpY2U6cGFzcw==");
    auto const bob = r.upgrade_identity("Basic Ym9iOnBhc3M=");

    CHECK(r.authorize(alice, "/buckets/open") == access_decision::allowed);
    CHECK(r.authorize(alice, "/buckets/closed") == access_decision::forbidden);
    CHECK(r.authorize(alice, "/buckets/expired") == access_decision::unauthorized);
    REQUIRE(r.kinto->calls.size() == 3);

    // The second ask is answered from the cache (at once, before any executor runs); a cached
    // refusal is a refusal, whatever Kinto's status was.
    for (auto const& [channel, expected] :
         std::vector<std::pair<std::string, access_decision>>{{"/buckets/open", access_decision::allowed},
                                                               {"/buckets/closed", access_decision::forbidden},
                                                               {"/buckets/expired", access_decision::forbidden}}) {
        std::optional<access_decision> got;
        r.access.authorize(alice, channel, r.io.get_executor(), [&](access_decision d) { got = d; });
        CHECK(got == expected);
    }
    CHECK(r.kinto->calls.size() == 3);

    // Another credential is asked about on its own.
    CHECK(r.authorize(bob, "/buckets/open") == access_decision::allowed);
    CHECK(r.kinto->calls.size() == 4);
    CHECK(r.kinto->calls.back().authorization == "Basic Ym9iOnBhc3M=");

    // Kinto's failures are not decisions: asked again.
    CHECK(r.authorize(alice, "/buckets/down") == access_decision::unavailable);
    CHECK(r.authorize(alice, "/buckets/down") == access_decision::unavailable);
    CHECK(r.kinto->calls.size() == 6);
}

TEST_CASE("subscriber_access: an auth frame's Kinto credential names the user", "[access]") {
    rig r{with_kinto()};
    r.kinto->replies["/"] = {200, R"({"project_name":"kinto","user":{"id":"account:alice","bucket":"b1"}})"};

    auto const result = r.from_auth_frame("Basic YWxpY2U6cGFzcw==");
    auto const* identity = std::get_if<subscriber_identity>(&result);
    REQUIRE(identity != nullptr);
    CHECK(identity->sub == "account:alice");
    CHECK(identity->kinto_credential == "Basic YWxpY2U6cGFzcw==");
    CHECK_FALSE(identity->jwt.has_value());
    REQUIRE(r.kinto->calls.size() == 1);
    CHECK(r.kinto->calls[0].path == "/");
    CHECK(r.kinto->calls[0].authorization == "Basic YWxpY2U6cGFzcw==");

    // A bare token is a bearer token.
    auto const bare = r.from_auth_frame("opaque-token");
    REQUIRE(std::holds_alternative<subscriber_identity>(bare));
    CHECK(std::get<subscriber_identity>(bare).kinto_credential == "Bearer opaque-token");
    CHECK(r.kinto->calls.back().authorization == "Bearer opaque-token");
}

TEST_CASE("subscriber_access: an auth frame Kinto does not vouch for is refused", "[access]") {
    rig r{with_kinto()};
    auto answer = [&](unsigned status, std::string body) {
        r.kinto->replies["/"] = {status, std::move(body)};
        return decision_of(r.from_auth_frame("Basic YWxpY2U6cGFzcw=="));
    };
    CHECK(answer(401, R"({"code":401})") == access_decision::unauthorized);
    CHECK(answer(403, "{}") == access_decision::unauthorized);
    CHECK(answer(500, "") == access_decision::unavailable);
    CHECK(answer(0, "") == access_decision::unavailable);
    // 200 without a user: Kinto did not authenticate the credential (anonymous root).
    CHECK(answer(200, R"({"project_name":"kinto"})") == access_decision::unauthorized);
    CHECK(answer(200, "not json") == access_decision::unauthorized);
    CHECK(answer(200, R"({"user":"alice"})") == access_decision::unauthorized);
    CHECK(answer(200, R"({"user":{"id":42}})") == access_decision::unauthorized);
    CHECK(r.kinto->calls.size() == 8);
}

TEST_CASE("subscriber_access: an auth frame's JWT needs no Kinto", "[access]") {
    auto options = with_kinto();
    options.jwt_secret = secret;
    rig r{options};
    auto const result = r.from_auth_frame(jwt_for("alice", R"(["/buckets/a"])"));
    auto const* identity = std::get_if<subscriber_identity>(&result);
    REQUIRE(identity != nullptr);
    CHECK(identity->sub == "alice");
    CHECK(identity->jwt.has_value());
    CHECK(r.kinto->calls.empty());

    rig without_kinto{with_jwt()};
    CHECK(decision_of(without_kinto.from_auth_frame("not.a.jwt")) == access_decision::unauthorized);
    CHECK(decision_of(without_kinto.from_auth_frame("")) == access_decision::unauthorized);
}

TEST_CASE("subscriber_access: a recheck asks Kinto itself, past the cache, and refreshes it", "[access][recheck]") {
    rig r{with_kinto()};
    r.kinto->replies["/buckets/shared"] = {200, "{}"};
    auto const alice = r.upgrade_identity("Basic YWxpY2U6cGFzcw==");
    CHECK(r.authorize(alice, "/buckets/shared") == access_decision::allowed);
    REQUIRE(r.kinto->calls.size() == 1);

    // The read permission is withdrawn: the cache still says allowed, the recheck asks Kinto.
    r.kinto->replies["/buckets/shared"] = {403, "{}"};
    CHECK(r.recheck(alice, "/buckets/shared") == access_decision::forbidden);
    REQUIRE(r.kinto->calls.size() == 2);
    CHECK(r.kinto->calls.back().authorization == "Basic YWxpY2U6cGFzcw==");
    // ... and its answer is the cache's now: a new subscribe is refused without asking.
    CHECK(r.authorize(alice, "/buckets/shared") == access_decision::forbidden);
    CHECK(r.kinto->calls.size() == 2);

    r.kinto->replies["/buckets/shared"] = {401, "{}"};
    CHECK(r.recheck(alice, "/buckets/shared") == access_decision::unauthorized);
    r.kinto->replies["/buckets/shared"] = {503, "{}"};
    CHECK(r.recheck(alice, "/buckets/shared") == access_decision::unavailable);
    r.kinto->replies["/buckets/shared"] = {0, ""};
    CHECK(r.recheck(alice, "/buckets/shared") == access_decision::unavailable);
    CHECK(r.kinto->calls.size() == 5);
}

TEST_CASE("subscriber_access: what Kinto did not open is never rechecked at Kinto", "[access][recheck]") {
    auto options = with_kinto();
    options.jwt_secret = secret;
    options.public_channels = "/buckets/blog";
    rig r{options};
    auto const kinto_user = r.upgrade_identity("Basic YWxpY2U6cGFzcw==");
    CHECK(r.recheck(kinto_user, "/buckets/blog") == access_decision::allowed);   // public
    auto const jwt_user = r.upgrade_identity("Bearer " + jwt_for("alice", R"(["/buckets/a"])"));
    CHECK(r.recheck(jwt_user, "/buckets/a") == access_decision::allowed);
    CHECK(r.kinto->calls.empty());
}

TEST_CASE("subscriber_access: an allowed answer is cached no longer than --kinto-recheck", "[access][recheck]") {
    auto options = with_kinto();
    options.kinto_recheck_s = 1;
    rig r{options};
    r.kinto->replies["/buckets/open"] = {200, "{}"};
    auto const alice = r.upgrade_identity("Basic YWxpY2U6cGFzcw==");
    CHECK(r.authorize(alice, "/buckets/open") == access_decision::allowed);
    CHECK(r.authorize(alice, "/buckets/open") == access_decision::allowed);
    REQUIRE(r.kinto->calls.size() == 1);   // cached
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(r.authorize(alice, "/buckets/open") == access_decision::allowed);
    CHECK(r.kinto->calls.size() == 2);     // stale after a second: asked again
}
