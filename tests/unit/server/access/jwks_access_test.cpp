// server/access/jwks_source through subscriber_access: the JWKS fetched at start, again on an
// unknown kid (at most every --jwt-jwks-refresh-min), its keys kept while the endpoint fails;
// several HS256 secrets; audience and issuer refusals. A scripted endpoint behind kinto_api and
// a plain io_context (no sockets, no waiting: the periodic refresh is 300 s away).

#include "server/access/kinto_client.hpp"
#include "server/access/subscriber_access.hpp"
#include "tests/unit/auth/jose_signing.hpp"
#include "tests/unit/server/access/scripted_kinto.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <variant>

using kp::server::access_options;
using kp::server::credential_refusal;
using kp::server::subscriber_access;
using kp::server::subscriber_identity;
using kp::test::kinto_reply;
using kp::test::kinto_script;
using kp::test::scripted_kinto;
using json = nlohmann::json;
using namespace kp::test;

namespace {

constexpr std::int64_t now = 1717000000;
std::string const jwks_url = "http://idp.test/jwks.json";

std::string rs_token(EVP_PKEY* key, std::string const& kid, std::string const& claims = "") {
    return token(R"({"alg":"RS256","typ":"JWT","kid":")" + kid + R"("})",
                 R"({"sub":"alice","exp":)" + std::to_string(now + 600) + claims + "}", rs256(key));
}

kinto_reply jwks_of(json keys) {
    return {200, json{{"keys", std::move(keys)}}.dump()};
}

struct rig {
    explicit rig(access_options const& options)
        : endpoint(std::make_shared<kinto_script>()),
          access(options, [script = endpoint](std::string const& base_url) {
              script->made_for.push_back(base_url);
              return std::make_unique<scripted_kinto>(script);
          }) {}

    // Runs what is ready, a bounded number of rounds (the refresh timer stays pending).
    void settle() {
        for (int i = 0; i < 20; ++i) {
            io.restart();
            io.poll();
        }
    }

    std::variant<subscriber_identity, credential_refusal> auth_frame(std::string const& tok) {
        std::optional<std::variant<subscriber_identity, credential_refusal>> got;
        access.from_auth_frame(tok, now, io.get_executor(), [&](auto result) { got = std::move(result); });
        settle();
        REQUIRE(got.has_value());
        return *got;
    }

    std::optional<std::variant<subscriber_identity, credential_refusal>> upgrade(std::string const& authorization) {
        std::optional<std::optional<std::variant<subscriber_identity, credential_refusal>>> got;
        access.from_upgrade(authorization, "", now, io.get_executor(), [&](auto found) { got = std::move(found); });
        settle();
        REQUIRE(got.has_value());
        return *got;
    }

    std::size_t fetches() const { return endpoint->calls.size(); }

    boost::asio::io_context io;
    std::shared_ptr<kinto_script> endpoint;
    subscriber_access access;
};

std::string refusal_of(std::variant<subscriber_identity, credential_refusal> const& result) {
    auto const* refusal = std::get_if<credential_refusal>(&result);
    REQUIRE(refusal != nullptr);
    return refusal->message();
}

std::string sub_of(std::variant<subscriber_identity, credential_refusal> const& result) {
    if (auto const* refusal = std::get_if<credential_refusal>(&result)) FAIL(refusal->message());
    return std::get<subscriber_identity>(result).sub.value_or("");
}

access_options with_jwks(std::int64_t refresh_min_s) {
    access_options options;
    options.jwt_jwks_url = jwks_url;
    options.jwt_jwks_refresh_min_s = refresh_min_s;
    return options;
}

}  // namespace

TEST_CASE("jwks access: keys rotate without a restart, and serve while the endpoint is down", "[access][jwks]") {
    rig r{with_jwks(0)};
    CHECK(r.endpoint->made_for == std::vector<std::string>{jwks_url});
    CHECK(r.access.describe() == "JWT (RS256/ES256 from a JWKS)");
    r.endpoint->replies[""] = jwks_of({public_jwk(rsa_key(), "key-a")});
    r.access.start_key_refresh(r.io.get_executor());
    r.settle();
    REQUIRE(r.fetches() == 1);
    CHECK(r.endpoint->calls[0].path.empty());
    CHECK(r.endpoint->calls[0].authorization.empty());
    CHECK(sub_of(r.auth_frame(rs_token(rsa_key(), "key-a"))) == "alice");
    CHECK(r.fetches() == 1);   // a known kid fetches nothing

    // The provider rotates: key B, a new kid. The first token naming it fetches the set again.
    r.endpoint->replies[""] = jwks_of({public_jwk(other_rsa_key(), "key-b")});
    CHECK(sub_of(r.auth_frame(rs_token(other_rsa_key(), "key-b"))) == "alice");
    CHECK(r.fetches() == 2);
    CHECK(refusal_of(r.auth_frame(rs_token(rsa_key(), "key-a"))) ==
          "invalid credentials: token signing key (kid) unknown");   // A left the set

    // The endpoint fails: B still verifies; an unknown kid is refused, saying the set is out of reach.
    r.endpoint->replies[""] = {0, ""};
    CHECK(refusal_of(r.auth_frame(rs_token(ec_key(), "key-c"))) ==
          "invalid credentials: token signing key (kid) unknown; the key set (JWKS) cannot be fetched");
    CHECK(sub_of(r.auth_frame(rs_token(other_rsa_key(), "key-b"))) == "alice");
    // A document with no usable key changes nothing either.
    r.endpoint->replies[""] = {200, R"({"keys":[]})"};
    CHECK(refusal_of(r.auth_frame(rs_token(ec_key(), "key-c"))) ==
          "invalid credentials: token signing key (kid) unknown; the key set (JWKS) cannot be fetched");
    CHECK(sub_of(r.auth_frame(rs_token(other_rsa_key(), "key-b"))) == "alice");
    r.access.stop_key_refresh();
    r.settle();
}

TEST_CASE("jwks access: an unknown kid fetches at most once per --jwt-jwks-refresh-min", "[access][jwks]") {
    rig r{with_jwks(3600)};
    r.endpoint->replies[""] = jwks_of({public_jwk(rsa_key(), "key-a")});
    r.access.start_key_refresh(r.io.get_executor());
    r.settle();
    REQUIRE(r.fetches() == 1);
    r.endpoint->replies[""] = jwks_of({public_jwk(other_rsa_key(), "key-b")});
    for (int i = 0; i < 3; ++i)
        CHECK(refusal_of(r.auth_frame(rs_token(other_rsa_key(), "made-up-" + std::to_string(i)))) ==
              "invalid credentials: token signing key (kid) unknown");
    CHECK(r.fetches() == 1);
    r.access.stop_key_refresh();
    r.settle();
}

TEST_CASE("jwks access: an upgrade naming an unknown kid waits for a fetch and is taken", "[access][jwks]") {
    rig r{with_jwks(0)};
    r.endpoint->replies[""] = jwks_of({public_jwk(rsa_key(), "key-a")});
    r.access.start_key_refresh(r.io.get_executor());
    r.settle();
    REQUIRE(r.fetches() == 1);
    // The identity provider rotates to key-b: the first upgrade signed with it waits for the
    // fetch it starts, and is taken.
    r.endpoint->replies[""] = jwks_of({public_jwk(other_rsa_key(), "key-b")});
    std::string const bearer = "Bearer " + rs_token(other_rsa_key(), "key-b");
    auto first = r.upgrade(bearer);
    REQUIRE(first.has_value());
    CHECK(sub_of(*first) == "alice");
    CHECK(r.fetches() == 2);
    // A kid the fetched set still lacks is refused after that fetch, with the reason.
    auto unknown = r.upgrade("Bearer " + rs_token(rsa_key(), "key-z"));
    REQUIRE(unknown.has_value());
    CHECK(refusal_of(*unknown) == "invalid credentials: token signing key (kid) unknown");
    r.access.stop_key_refresh();
    r.settle();
}

TEST_CASE("jwks access: not started (a configuration check), nothing is fetched", "[access][jwks]") {
    rig r{with_jwks(0)};
    CHECK(refusal_of(r.auth_frame(rs_token(rsa_key(), "key-a"))) ==
          "invalid credentials: token signing key (kid) unknown; the key set (JWKS) cannot be fetched");
    CHECK(r.fetches() == 0);
}

TEST_CASE("jwt access: several secrets, audience and issuer", "[access][jwt-rotation]") {
    access_options options;
    options.jwt_secret = "old-secret\r\n\nnew-secret\n";
    options.jwt_audience = "push";
    options.jwt_issuer = "https://idp.test";
    rig r{options};
    CHECK(r.access.describe() == "JWT (HS256 with 2 secrets)");
    std::string const claims = R"({"sub":"bob","exp":)" + std::to_string(now + 600);
    auto hs = [&](std::string const& key, std::string const& more) {
        return "Bearer " + token(R"({"alg":"HS256"})", claims + more + "}", hs256(key));
    };
    std::string const ours = R"(,"aud":["push"],"iss":"https://idp.test")";
    CHECK(sub_of(*r.upgrade(hs("old-secret", ours))) == "bob");
    CHECK(sub_of(*r.upgrade(hs("new-secret", ours))) == "bob");
    CHECK(refusal_of(*r.upgrade(hs("other-secret", ours))) ==
          "invalid credentials: invalid token signature");
    CHECK(refusal_of(*r.upgrade(hs("new-secret", R"(,"aud":"pull","iss":"https://idp.test")"))) ==
          "invalid credentials: token audience (aud) not accepted");
    CHECK(refusal_of(*r.upgrade(hs("new-secret", R"(,"aud":"push","iss":"https://other.test")"))) ==
          "invalid credentials: token issuer (iss) not accepted");
}

TEST_CASE("jwks access: start-up errors name the option", "[access][jwks]") {
    access_options options;
    options.jwt_jwks_url = "ftp://idp.test/jwks";
    try {
        subscriber_access access(options, [](std::string const& base_url) {
            return std::make_unique<kp::server::kinto_client>(base_url);
        });
        FAIL("accepted");
    } catch (std::runtime_error const& e) {
        CHECK(std::string(e.what()) == "--jwt-jwks-url ftp://idp.test/jwks: must be http(s)://host[:port][/path]");
    }
    options = {};
    options.jwt_audience = "push";   // nothing to check it on
    CHECK_THROWS_WITH(subscriber_access(options, nullptr),
                      "JWT verification needs --jwt-secret, --jwt-public-key or --jwt-jwks-url");
}
