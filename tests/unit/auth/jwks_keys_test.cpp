// auth/jwks_keys and auth/jwks_keyring: a JWK Set parsed into OpenSSL keys (keys made at test
// time), and the JWT verifier reading a keyring: kid, alg and key type.

#include "auth/jwks_keyring.hpp"
#include "auth/jwks_keys.hpp"
#include "auth/jwt_verifier.hpp"
#include "tests/unit/auth/jose_signing.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <variant>

using kp::auth::jwks_keyring;
using kp::auth::jwks_keys;
using kp::auth::jwt_claims;
using kp::auth::jwt_failure;
using kp::auth::jwt_key_options;
using kp::auth::jwt_verifier;
using json = nlohmann::json;
using namespace kp::test;

namespace {

constexpr std::int64_t now = 1717000000;
std::string const payload = R"({"sub":"alice","exp":)" + std::to_string(now + 600) + "}";

std::string set_of(json keys) {
    return json{{"keys", std::move(keys)}}.dump();
}

jwks_keys must_parse(std::string const& document) {
    auto parsed = jwks_keys::parse(document);
    if (auto const* error = std::get_if<std::string>(&parsed)) FAIL("parse() failed: " << *error);
    return std::get<jwks_keys>(std::move(parsed));
}

std::string parse_error(std::string const& document) {
    auto parsed = jwks_keys::parse(document);
    REQUIRE(std::holds_alternative<std::string>(parsed));
    return std::get<std::string>(parsed);
}

std::string rs_token(EVP_PKEY* key, std::string const& kid, std::string const& body = payload) {
    return token(R"({"alg":"RS256","typ":"JWT","kid":")" + kid + R"("})", body, rs256(key));
}
std::string es_token(EVP_PKEY* key, std::string const& kid, std::string const& body = payload) {
    return token(R"({"alg":"ES256","typ":"JWT","kid":")" + kid + R"("})", body, es256(key));
}

// A verifier reading `ring`, with `extra` options.
jwt_verifier verifier_of(std::shared_ptr<jwks_keyring> ring, jwt_key_options extra = {}) {
    extra.jwks = std::move(ring);
    auto made = jwt_verifier::make(std::move(extra));
    if (auto const* error = std::get_if<std::string>(&made)) FAIL("make() failed: " << *error);
    return std::get<jwt_verifier>(std::move(made));
}

std::shared_ptr<jwks_keyring> ring_of(std::string const& document) {
    auto ring = std::make_shared<jwks_keyring>();
    ring->replace(std::make_shared<jwks_keys const>(must_parse(document)));
    return ring;
}

std::optional<jwt_failure> failure(jwt_verifier const& v, std::string const& tok) {
    auto result = v.verify(tok, now);
    if (auto const* f = std::get_if<jwt_failure>(&result)) return *f;
    return std::nullopt;
}

}  // namespace

TEST_CASE("jwks: RSA and EC P-256 keys are read, named by kid", "[auth][jwks]") {
    json rsa = public_jwk(rsa_key(), "rsa-1");
    rsa["use"] = "sig";
    rsa["alg"] = "RS256";
    auto keys = must_parse(set_of({rsa, public_jwk(ec_key(), "ec-1")}));
    CHECK(keys.size() == 2);
    REQUIRE(keys.find("rsa-1") != nullptr);
    CHECK(std::string(keys.find("rsa-1")->algorithm()) == "RS256");
    REQUIRE(keys.find("ec-1") != nullptr);
    CHECK(std::string(keys.find("ec-1")->algorithm()) == "ES256");
    CHECK(keys.find("other") == nullptr);
    CHECK(keys.describe() == "rsa-1 (RS256), ec-1 (ES256)");
    CHECK(keys.skipped().empty());
}

TEST_CASE("jwks: keys that cannot verify JWTs are skipped, each with its reason", "[auth][jwks]") {
    json enc = public_jwk(rsa_key(), "enc-1");
    enc["use"] = "enc";
    json no_kid = public_jwk(rsa_key(), "x");
    no_kid.erase("kid");
    json wrong_alg = public_jwk(ec_key(), "ec-rs");
    wrong_alg["alg"] = "RS256";
    json p384 = public_jwk(ec_key(), "p384");
    p384["crv"] = "P-384";
    json off_curve = public_jwk(ec_key(), "off-curve");
    off_curve["y"] = off_curve["x"];   // (x, x) is not on the curve
    json oct = {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}};
    json small;
    {
        pkey_ptr weak(EVP_RSA_gen(1024));
        REQUIRE(weak != nullptr);
        small = public_jwk(weak.get(), "rsa-1024");
    }
    json no_n = public_jwk(rsa_key(), "no-n");
    no_n.erase("n");
    json first = public_jwk(rsa_key(), "twice");
    json again = public_jwk(ec_key(), "twice");
    auto keys = must_parse(
        set_of({enc, no_kid, wrong_alg, p384, off_curve, oct, small, no_n, "text", first, again}));
    CHECK(keys.size() == 1);
    REQUIRE(keys.find("twice") != nullptr);
    CHECK(std::string(keys.find("twice")->algorithm()) == "RS256");   // the first counts
    auto const& why = keys.skipped();
    REQUIRE(why.size() == 10);
    CHECK(why[0] == "key 1 (kid enc-1): use is enc, not sig");
    CHECK(why[1] == "key 2: no kid (tokens name their key by it)");
    CHECK(why[2] == "key 3 (kid ec-rs): alg RS256 does not go with kty EC (ES256)");
    CHECK(why[3] == "key 4 (kid p384): EC key on curve P-384; ES256 needs P-256");
    CHECK(why[4] == "key 5 (kid off-curve): EC key whose x and y are not a point on P-256");
    CHECK(why[5] == "key 6 (kid hmac): kty oct is not used (RSA or EC only)");
    CHECK(why[6] == "key 7 (kid rsa-1024): RSA key of 1024 bits; RS256 needs at least 2048 (RFC 7518)");
    CHECK(why[7] == "key 8 (kid no-n): RSA key without base64url n and e");
    CHECK(why[8] == "key 9: not a JSON object");
    CHECK(why[9] == "key 11 (kid twice): kid seen before; the first counts");
}

TEST_CASE("jwks: documents that are not key sets are refused", "[auth][jwks]") {
    CHECK(parse_error("") == "not JSON");
    CHECK(parse_error("{\"keys\":[") == "not JSON");
    CHECK(parse_error("[]") == "not a JWKS document (a JSON object with a \"keys\" array)");
    CHECK(parse_error("{\"keys\":{}}") == "not a JWKS document (a JSON object with a \"keys\" array)");
    CHECK(parse_error("{\"keys\":[]}") == "no usable key");
    json enc = public_jwk(rsa_key(), "enc-1");
    enc["use"] = "enc";
    CHECK(parse_error(set_of({enc})) == "no usable key (key 1 (kid enc-1): use is enc, not sig)");
    json many = json::array();
    for (int i = 0; i < 101; ++i) many.push_back({{"kty", "oct"}, {"kid", std::to_string(i)}});
    CHECK(parse_error(set_of(many)) == "over 100 keys");
    CHECK(parse_error(std::string(jwks_keys::max_document_bytes + 1, ' ')) == "over 1048576 bytes: not a JWKS document");
}

TEST_CASE("jwks: a token is verified with the key its kid names", "[auth][jwks]") {
    auto v = verifier_of(ring_of(set_of({public_jwk(rsa_key(), "a"), public_jwk(ec_key(), "e")})));
    CHECK(v.has_jwks());
    auto rs = v.verify(rs_token(rsa_key(), "a"), now);
    REQUIRE(std::holds_alternative<jwt_claims>(rs));
    CHECK(std::get<jwt_claims>(rs).sub == "alice");
    CHECK_FALSE(failure(v, es_token(ec_key(), "e")));

    // Signed by another key under a known kid; a kid the set does not hold; no kid at all.
    CHECK(failure(v, rs_token(other_rsa_key(), "a")) == jwt_failure::bad_signature);
    CHECK(failure(v, rs_token(other_rsa_key(), "b")) == jwt_failure::unknown_key);
    CHECK(failure(v, token(R"({"alg":"RS256"})", payload, rs256(rsa_key()))) == jwt_failure::missing_kid);
    CHECK(failure(v, token(R"({"alg":"RS256","kid":7})", payload, rs256(rsa_key()))) == jwt_failure::malformed);
    // The header's alg must be the named key's: never an RSA key under ES256, nor HS256 at all.
    CHECK(failure(v, token(R"({"alg":"ES256","kid":"a"})", payload, es256(ec_key()))) ==
          jwt_failure::algorithm_mismatch);
    CHECK(failure(v, token(R"({"alg":"RS256","kid":"e"})", payload, rs256(rsa_key()))) ==
          jwt_failure::algorithm_mismatch);
    CHECK(failure(v, token(R"({"alg":"HS256","kid":"a"})", payload, hs256("x"))) ==
          jwt_failure::unsupported_algorithm);
    CHECK(failure(v, token(R"({"alg":"none","kid":"a"})", payload, [](std::string const&) { return ""; })) ==
          jwt_failure::unsupported_algorithm);
}

TEST_CASE("jwks: the keyring is read at each verification: keys rotate", "[auth][jwks]") {
    auto ring = std::make_shared<jwks_keyring>();
    auto v = verifier_of(ring);
    CHECK(failure(v, rs_token(rsa_key(), "a")) == jwt_failure::unknown_key);   // nothing fetched yet
    ring->replace(std::make_shared<jwks_keys const>(must_parse(set_of({public_jwk(rsa_key(), "a")}))));
    CHECK_FALSE(failure(v, rs_token(rsa_key(), "a")));
    ring->replace(std::make_shared<jwks_keys const>(must_parse(set_of({public_jwk(other_rsa_key(), "b")}))));
    CHECK_FALSE(failure(v, rs_token(other_rsa_key(), "b")));
    CHECK(failure(v, rs_token(rsa_key(), "a")) == jwt_failure::unknown_key);
}

TEST_CASE("jwks: describe() gives the new reasons", "[auth][jwks]") {
    CHECK(std::string(jwt_verifier::describe(jwt_failure::missing_kid)) == "token names no signing key (kid)");
    CHECK(std::string(jwt_verifier::describe(jwt_failure::unknown_key)) == "token signing key (kid) unknown");
    CHECK(std::string(jwt_verifier::describe(jwt_failure::algorithm_mismatch)) ==
          "token algorithm does not match its key (kid)");
    CHECK(std::string(jwt_verifier::describe(jwt_failure::wrong_audience)) == "token audience (aud) not accepted");
    CHECK(std::string(jwt_verifier::describe(jwt_failure::wrong_issuer)) == "token issuer (iss) not accepted");
}
