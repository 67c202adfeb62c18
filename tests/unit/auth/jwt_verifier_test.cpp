// auth::jwt_verifier: subscriber JWTs (PROTOCOL.md section 3), HS256, RS256 and ES256.

#include "auth/base64url.hpp"
#include "auth/jwt_verifier.hpp"
#include "tests/unit/auth/jose_signing.hpp"

#include <catch2/catch.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unistd.h>
#include <variant>
#include <vector>

using kp::auth::base64url;
using kp::auth::jwt_claims;
using kp::auth::jwt_failure;
using kp::auth::jwt_verifier;
using namespace kp::test;

namespace {

constexpr std::int64_t now = 1717000000;


// A file in the temporary directory, removed at the end of the test.
class temp_file {
public:
    explicit temp_file(std::string const& contents) {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("kp_auth_jwt_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".pem");
        std::ofstream out(path_, std::ios::binary);
        out << contents;
        REQUIRE(out.good());
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    temp_file(temp_file const&) = delete;
    temp_file& operator=(temp_file const&) = delete;
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    REQUIRE(PEM_write_bio_PUBKEY(bio.get(), key) == 1);
    return bio_text(bio.get());
}

std::string private_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
    return bio_text(bio.get());
}

// "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1), as older tools write it.
std::string pkcs1_public_pem(EVP_PKEY* key) {
    std::unique_ptr<OSSL_ENCODER_CTX, decltype(&OSSL_ENCODER_CTX_free)> ctx(
        OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", nullptr),
        &OSSL_ENCODER_CTX_free);
    REQUIRE(ctx != nullptr);
    unsigned char* data = nullptr;
    std::size_t len = 0;
    REQUIRE(OSSL_ENCODER_to_data(ctx.get(), &data, &len) == 1);
    std::string out(reinterpret_cast<char*>(data), len);
    OPENSSL_free(data);
    REQUIRE(out.find("BEGIN RSA PUBLIC KEY") != std::string::npos);
    return out;
}

// A self-signed certificate for `key`.
std::string certificate_pem(EVP_PKEY* key) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    REQUIRE(cert != nullptr);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<unsigned char const*>("issuer"), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), name);
    REQUIRE(X509_set_pubkey(cert.get(), key) == 1);
    REQUIRE(X509_sign(cert.get(), key, EVP_sha256()) > 0);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    REQUIRE(PEM_write_bio_X509(bio.get(), cert.get()) == 1);
    return bio_text(bio.get());
}


std::string exp_payload(std::int64_t exp) {
    return R"({"exp":)" + std::to_string(exp) + "}";
}

jwt_verifier must_make(std::optional<std::string> secret, std::optional<std::string> pem_path) {
    auto made = jwt_verifier::make(std::move(secret), std::move(pem_path));
    if (auto const* error = std::get_if<std::string>(&made)) FAIL("make() failed: " << *error);
    return std::get<jwt_verifier>(made);
}

std::string make_error(std::optional<std::string> secret, std::optional<std::string> pem_path) {
    auto made = jwt_verifier::make(std::move(secret), std::move(pem_path));
    REQUIRE(std::holds_alternative<std::string>(made));
    return std::get<std::string>(made);
}

jwt_claims must_verify(jwt_verifier const& v, std::string const& tok, std::int64_t at = now) {
    auto result = v.verify(tok, at);
    if (auto const* f = std::get_if<jwt_failure>(&result))
        FAIL("verify() failed: " << jwt_verifier::describe(*f));
    return std::get<jwt_claims>(result);
}

std::optional<jwt_failure> failure(jwt_verifier const& v, std::string const& tok, std::int64_t at = now) {
    auto result = v.verify(tok, at);
    if (auto const* f = std::get_if<jwt_failure>(&result)) return *f;
    return std::nullopt;
}

std::string const secret = "jwt-secret-of-at-least-32-bytes!";
std::string const hs_header = R"({"alg":"HS256","typ":"JWT"})";
std::string const rs_header = R"({"alg":"RS256","typ":"JWT"})";
std::string const es_header = R"({"alg":"ES256","typ":"JWT"})";

// Replaces the signature segment's bytes with `f(bytes)`.
std::string with_signature(std::string const& tok, std::function<std::string(std::string)> const& f) {
    auto dot = tok.rfind('.');
    std::string sig = base64url::decode(tok.substr(dot + 1)).value();
    return tok.substr(0, dot + 1) + base64url::encode(f(sig));
}

}  // namespace

TEST_CASE("jwt: valid HS256 token gives its claims", "[auth]") {
    auto v = must_make(secret, std::nullopt);
    CHECK(v.has_secret());
    CHECK_FALSE(v.has_public_key());
    std::string payload = R"({"sub":"alice","exp":1717003600,"nbf":1716999000,"iat":1716999000,"iss":"me",)"
                          R"("channels":["/buckets/blog/collections/*","/buckets/news"]})";
    auto claims = must_verify(v, token(hs_header, payload, hs256(secret)));
    CHECK(claims.sub == std::optional<std::string>("alice"));
    CHECK(claims.exp == 1717003600);
    CHECK(claims.nbf == std::optional<std::int64_t>(1716999000));
    REQUIRE(claims.channels.size() == 2);
    CHECK(claims.channels[0].str() == "/buckets/blog/collections/*");
    CHECK(jwt_verifier::allows(claims, "/buckets/blog/collections/articles"));
    CHECK(jwt_verifier::allows(claims, "/buckets/news"));
    CHECK_FALSE(jwt_verifier::allows(claims, "/buckets/blog"));
    CHECK_FALSE(jwt_verifier::allows(claims, "/buckets/news/collections/x"));
    CHECK_FALSE(jwt_verifier::allows(claims, "/buckets"));

    // Minimal token: only exp. No typ is fine, and typ is case-insensitive.
    auto minimal = must_verify(v, token(R"({"alg":"HS256"})", exp_payload(now + 60), hs256(secret)));
    CHECK_FALSE(minimal.sub.has_value());
    CHECK_FALSE(minimal.nbf.has_value());
    CHECK(minimal.channels.empty());
    CHECK_FALSE(jwt_verifier::allows(minimal, "/buckets/blog"));
    must_verify(v, token(R"({"alg":"HS256","typ":"jwt","kid":"k1"})", exp_payload(now + 60), hs256(secret)));
}

TEST_CASE("jwt: valid RS256 and ES256 tokens from a PEM public key", "[auth]") {
    std::string payload = R"({"sub":"bob","exp":1717003600,"channels":["/buckets"]})";

    temp_file rsa_pem(public_pem(rsa_key()));
    auto rs = must_make(std::nullopt, rsa_pem.path());
    CHECK(rs.has_public_key());
    CHECK_FALSE(rs.has_secret());
    CHECK(std::string(rs.public_key_algorithm()) == "RS256");
    auto rs_claims = must_verify(rs, token(rs_header, payload, rs256(rsa_key())));
    CHECK(rs_claims.sub == std::optional<std::string>("bob"));
    // A JWT may grant the firehose.
    CHECK(jwt_verifier::allows(rs_claims, "/buckets"));
    CHECK_FALSE(jwt_verifier::allows(rs_claims, "/buckets/blog"));

    temp_file ec_pem(public_pem(ec_key()));
    auto es = must_make(std::nullopt, ec_pem.path());
    CHECK(std::string(es.public_key_algorithm()) == "ES256");
    auto es_claims = must_verify(es, token(es_header, payload, es256(ec_key())));
    CHECK(es_claims.exp == 1717003600);
    CHECK(jwt_verifier::allows(es_claims, "/buckets"));
}

TEST_CASE("jwt: the PEM file may hold a PKCS#1 RSA key or a certificate", "[auth]") {
    std::string tok = token(rs_header, exp_payload(now + 60), rs256(rsa_key()));
    temp_file pkcs1(pkcs1_public_pem(rsa_key()));
    must_verify(must_make(std::nullopt, pkcs1.path()), tok);
    temp_file rsa_cert(certificate_pem(rsa_key()));
    must_verify(must_make(std::nullopt, rsa_cert.path()), tok);
    temp_file ec_cert(certificate_pem(ec_key()));
    must_verify(must_make(std::nullopt, ec_cert.path()),
                token(es_header, exp_payload(now + 60), es256(ec_key())));
}

TEST_CASE("jwt: both a secret and a public key accept both algorithms", "[auth]") {
    temp_file pem(public_pem(rsa_key()));
    auto v = must_make(secret, pem.path());
    must_verify(v, token(hs_header, exp_payload(now + 60), hs256(secret)));
    must_verify(v, token(rs_header, exp_payload(now + 60), rs256(rsa_key())));
    CHECK(failure(v, token(es_header, exp_payload(now + 60), es256(ec_key()))) ==
          jwt_failure::unsupported_algorithm);
    // The HS256 key is the secret, never the PEM.
    CHECK(failure(v, token(hs_header, exp_payload(now + 60), hs256(public_pem(rsa_key())))) ==
          jwt_failure::bad_signature);
}

TEST_CASE("jwt: exp and nbf with a 30 s leeway", "[auth]") {
    auto v = must_make(secret, std::nullopt);
    auto tok = [&](std::string const& payload) { return token(hs_header, payload, hs256(secret)); };

    CHECK(failure(v, tok(exp_payload(now - 3600))) == jwt_failure::expired);
    CHECK(failure(v, tok(exp_payload(now - 31))) == jwt_failure::expired);
    CHECK(failure(v, tok(exp_payload(now - 30))) == jwt_failure::expired);
    must_verify(v, tok(exp_payload(now - 29)));
    must_verify(v, tok(exp_payload(now)));
    // The same token, judged at different times.
    std::string t = tok(exp_payload(now + 100));
    must_verify(v, t, now + 129);
    CHECK(failure(v, t, now + 130) == jwt_failure::expired);

    auto nbf = [&](std::int64_t n) {
        return tok(R"({"exp":)" + std::to_string(now + 3600) + R"(,"nbf":)" + std::to_string(n) + "}");
    };
    must_verify(v, nbf(now - 1000));
    must_verify(v, nbf(now));
    must_verify(v, nbf(now + 30));
    CHECK(failure(v, nbf(now + 31)) == jwt_failure::not_yet_valid);
    CHECK(failure(v, nbf(now + 3000)) == jwt_failure::not_yet_valid);

    // NumericDate may have a fraction: exp rounds down, nbf up (the strict side).
    auto exp_float = must_verify(v, tok(R"({"exp":1717000100.9})"));
    CHECK(exp_float.exp == 1717000100);
    CHECK(failure(v, tok(R"({"exp":1716999970.9})")) == jwt_failure::expired);
    auto nbf_float = must_verify(v, tok(R"({"exp":1717003600,"nbf":1717000010.2})"));
    CHECK(nbf_float.nbf == std::optional<std::int64_t>(1717000011));
    CHECK(failure(v, tok(R"({"exp":1717003600,"nbf":1717000030.5})")) == jwt_failure::not_yet_valid);
    // Extreme values do not overflow.
    must_verify(v, tok(R"({"exp":9223372036854775807})"));
    CHECK(failure(v, tok(R"({"exp":-9223372036854775808})")) == jwt_failure::expired);
    CHECK(failure(v, tok(R"({"exp":9223372036854775807,"nbf":9223372036854775807})")) ==
          jwt_failure::not_yet_valid);
    must_verify(v, tok(R"({"exp":9223372036854775807,"nbf":-9223372036854775808})"));
}

TEST_CASE("jwt: a token without exp is refused", "[auth]") {
    auto v = must_make(secret, std::nullopt);
    CHECK(failure(v, token(hs_header, "{}", hs256(secret))) == jwt_failure::missing_exp);
    CHECK(failure(v, token(hs_header, R"({"sub":"alice","channels":["/buckets"]})", hs256(secret))) ==
          jwt_failure::missing_exp);
    CHECK(failure(v, token(hs_header, R"({"sub":5})", hs256(secret))) == jwt_failure::missing_exp);
}

TEST_CASE("jwt: claims of the wrong type are bad_claims", "[auth]") {
    auto v = must_make(secret, std::nullopt);
    std::string const e = std::to_string(now + 60);
    for (std::string const& payload : std::vector<std::string>{
             std::string(R"({"exp":"1717000060"})"),
             std::string(R"({"exp":null})"),
             std::string(R"({"exp":true})"),
             std::string(R"({"exp":[1717000060]})"),
             std::string(R"({"exp":1e300})"),
             std::string(R"({"exp":18446744073709551615})"),
             R"({"exp":)" + e + R"(,"nbf":"0"})",
             R"({"exp":)" + e + R"(,"nbf":null})",
             R"({"exp":)" + e + R"(,"sub":5})",
             R"({"exp":)" + e + R"(,"sub":null})",
             R"({"exp":)" + e + R"(,"sub":["alice"]})",
             R"({"exp":)" + e + R"(,"channels":"/buckets/blog"})",
             R"({"exp":)" + e + R"(,"channels":{"a":"/buckets/blog"}})",
             R"({"exp":)" + e + R"(,"channels":[1]})",
             R"({"exp":)" + e + R"(,"channels":[null]})",
             R"({"exp":)" + e + R"(,"channels":["/buckets/blog","/*"]})",
             R"({"exp":)" + e + R"(,"channels":["/buckets/blog-*"]})",
             R"({"exp":)" + e + R"(,"channels":["buckets/blog"]})",
             R"({"exp":)" + e + R"(,"channels":["/buckets/blog/records/r1"]})",
             R"({"exp":)" + e + R"(,"webhooks":"true"})",
             R"({"exp":)" + e + R"(,"webhooks":1})",
             R"({"exp":)" + e + R"(,"webhooks":null})",
             R"({"exp":)" + e + R"(,"webhooks":[true]})",
             std::string(R"([{"exp":1717000060}])"),
             std::string(R"("exp")"),
             std::string("42"),
             std::string("null"),
         }) {
        CAPTURE(payload);
        CHECK(failure(v, token(hs_header, payload, hs256(secret))) == jwt_failure::bad_claims);
    }
    // A signed payload that is not JSON at all.
    CHECK(failure(v, token(hs_header, "not json", hs256(secret))) == jwt_failure::malformed);
    CHECK(failure(v, token(hs_header, R"({"exp":1717000060)", hs256(secret))) == jwt_failure::malformed);
    // An empty channel list is valid and grants nothing.
    auto claims = must_verify(v, token(hs_header, R"({"exp":)" + e + R"(,"channels":[]})", hs256(secret)));
    CHECK(claims.channels.empty());
}

TEST_CASE("jwt: the webhooks claim is a boolean, false when absent", "[auth]") {
    auto v = must_make(secret, std::nullopt);
    std::string const e = std::to_string(now + 60);
    CHECK_FALSE(must_verify(v, token(hs_header, exp_payload(now + 60), hs256(secret))).webhooks);
    auto yes = must_verify(
        v, token(hs_header, R"({"exp":)" + e + R"(,"webhooks":true,"channels":["/buckets/blog"]})", hs256(secret)));
    CHECK(yes.webhooks);
    REQUIRE(yes.channels.size() == 1);
    CHECK(yes.channels[0].str() == "/buckets/blog");
    CHECK_FALSE(must_verify(v, token(hs_header, R"({"exp":)" + e + R"(,"webhooks":false})", hs256(secret))).webhooks);
}

TEST_CASE("jwt: tampering breaks the signature", "[auth]") {
    temp_file rsa_pem(public_pem(rsa_key()));
    temp_file ec_pem(public_pem(ec_key()));
    struct algo {
        std::string name;
        jwt_verifier verifier;
        std::string header;
        signer sign;
    };
    std::vector<algo> algos;
    algos.push_back({"HS256", must_make(secret, std::nullopt), hs_header, hs256(secret)});
    algos.push_back({"RS256", must_make(std::nullopt, rsa_pem.path()), rs_header, rs256(rsa_key())});
    algos.push_back({"ES256", must_make(std::nullopt, ec_pem.path()), es_header, es256(ec_key())});

    std::string const payload = R"({"sub":"alice","exp":1717003600,"channels":["/buckets/a"]})";
    std::string const forged = R"({"sub":"alice","exp":1717003600,"channels":["/buckets"]})";
    for (auto const& a : algos) {
        CAPTURE(a.name);
        std::string tok = token(a.header, payload, a.sign);
        must_verify(a.verifier, tok);

        // Another payload under the original signature.
        auto dot1 = tok.find('.');
        auto dot2 = tok.rfind('.');
        std::string swapped = tok.substr(0, dot1 + 1) + base64url::encode(forged) + tok.substr(dot2);
        CHECK(failure(a.verifier, swapped) == jwt_failure::bad_signature);
        // Another header (same algorithm) under the original signature.
        std::string reheaded = base64url::encode(R"({"alg":")" + a.name + R"("})") + tok.substr(dot1);
        CHECK(failure(a.verifier, reheaded) == jwt_failure::bad_signature);

        // Flipped bits in the signature, a truncated one, an empty one, a longer one.
        CHECK(failure(a.verifier, with_signature(tok, [](std::string s) {
                          s[s.size() / 2] = static_cast<char>(s[s.size() / 2] ^ 0x01);
                          return s;
                      })) == jwt_failure::bad_signature);
        CHECK(failure(a.verifier, with_signature(tok, [](std::string s) {
                          s.back() = static_cast<char>(s.back() ^ 0x80);
                          return s;
                      })) == jwt_failure::bad_signature);
        CHECK(failure(a.verifier, with_signature(tok, [](std::string s) {
                          return s.substr(0, s.size() - 1);
                      })) == jwt_failure::bad_signature);
        CHECK(failure(a.verifier, with_signature(tok, [](std::string s) { return s + '\0'; })) ==
              jwt_failure::bad_signature);
        CHECK(failure(a.verifier, tok.substr(0, dot2 + 1)) == jwt_failure::bad_signature);
    }
}

TEST_CASE("jwt: wrong keys", "[auth]") {
    temp_file rsa_pem(public_pem(rsa_key()));
    auto rs = must_make(std::nullopt, rsa_pem.path());
    CHECK(failure(rs, token(rs_header, exp_payload(now + 60), rs256(other_rsa_key()))) ==
          jwt_failure::bad_signature);

    auto hs = must_make(secret, std::nullopt);
    CHECK(failure(hs, token(hs_header, exp_payload(now + 60), hs256(secret + "x"))) ==
          jwt_failure::bad_signature);
    CHECK(failure(hs, token(hs_header, exp_payload(now + 60), hs256(""))) == jwt_failure::bad_signature);

    temp_file ec_pem(public_pem(ec_key()));
    auto es = must_make(std::nullopt, ec_pem.path());
    auto other_ec = pkey_ptr(EVP_EC_gen("P-256"));
    CHECK(failure(es, token(es_header, exp_payload(now + 60), es256(other_ec.get()))) ==
          jwt_failure::bad_signature);
    // ES256 signatures are r||s, not OpenSSL's DER.
    CHECK(failure(es, token(es_header, exp_payload(now + 60), [](std::string const& d) {
                      return es256_der_sign(ec_key(), d);
                  })) == jwt_failure::bad_signature);
    CHECK(failure(es, token(es_header, exp_payload(now + 60), [](std::string const&) {
                      return std::string(64, '\0');
                  })) == jwt_failure::bad_signature);
    CHECK(failure(es, token(es_header, exp_payload(now + 60), [](std::string const&) {
                      return std::string(64, '\xff');
                  })) == jwt_failure::bad_signature);
}

TEST_CASE("jwt: only the configured algorithms, never none", "[auth]") {
    temp_file rsa_pem(public_pem(rsa_key()));
    temp_file ec_pem(public_pem(ec_key()));
    auto hs = must_make(secret, std::nullopt);
    auto rs = must_make(std::nullopt, rsa_pem.path());
    auto es = must_make(std::nullopt, ec_pem.path());
    std::string const p = exp_payload(now + 60);

    for (jwt_verifier const* v : {&hs, &rs, &es}) {
        // alg none, with an empty signature and with some signature.
        for (std::string const& none :
             std::vector<std::string>{R"({"alg":"none"})", R"({"alg":"none","typ":"JWT"})",
                                      R"({"alg":"None"})", R"({"alg":"NONE"})", R"({"alg":""})"}) {
            CAPTURE(none);
            std::string unsigned_tok = base64url::encode(none) + "." + base64url::encode(p) + ".";
            CHECK(failure(*v, unsigned_tok) == jwt_failure::unsupported_algorithm);
            CHECK(failure(*v, unsigned_tok + base64url::encode("sig")) == jwt_failure::unsupported_algorithm);
            CHECK(failure(*v, token(none, p, hs256(secret))) == jwt_failure::unsupported_algorithm);
        }
        for (std::string const& other : std::vector<std::string>{"HS384", "HS512", "RS384", "RS512", "PS256",
                                                                 "ES384", "EdDSA", "hs256"}) {
            CAPTURE(other);
            CHECK(failure(*v, token(R"({"alg":")" + other + R"("})", p, hs256(secret))) ==
                  jwt_failure::unsupported_algorithm);
        }
    }

    // Algorithm confusion: an HS256 token keyed with the public key's PEM text.
    CHECK(failure(rs, token(hs_header, p, hs256(public_pem(rsa_key())))) ==
          jwt_failure::unsupported_algorithm);
    CHECK(failure(es, token(hs_header, p, hs256(public_pem(ec_key())))) ==
          jwt_failure::unsupported_algorithm);
    // Asymmetric tokens against a secret-only verifier, and across key types.
    CHECK(failure(hs, token(rs_header, p, rs256(rsa_key()))) == jwt_failure::unsupported_algorithm);
    CHECK(failure(hs, token(es_header, p, es256(ec_key()))) == jwt_failure::unsupported_algorithm);
    CHECK(failure(rs, token(es_header, p, es256(ec_key()))) == jwt_failure::unsupported_algorithm);
    CHECK(failure(es, token(rs_header, p, rs256(rsa_key()))) == jwt_failure::unsupported_algorithm);
}

TEST_CASE("jwt: garbage tokens are malformed", "[auth]") {
    auto v = must_make(secret, std::nullopt);
    std::string const p = base64url::encode(exp_payload(now + 60));
    std::string const good = token(hs_header, exp_payload(now + 60), hs256(secret));
    std::string const h = base64url::encode(hs_header);
    std::string const sig = good.substr(good.rfind('.') + 1);
    auto signed_with_header = [&](std::string const& header) {
        return token(header, exp_payload(now + 60), hs256(secret));
    };

    for (std::string const& bad : std::vector<std::string>{
             std::string(),
             std::string("."),
             std::string(".."),
             std::string("..."),
             std::string("abc"),
             h,
             h + "." + p,
             h + "." + p + "." + sig + ".",
             h + "." + p + "." + sig + "." + sig,
             "." + p + "." + sig,
             h + ".." + sig,
             "!!!." + p + "." + sig,
             h + "=." + p + "." + sig,
             h + "." + p + "." + sig + "=",
             h + "." + p + "." + sig.substr(0, sig.size() - 1) + "+",
             "Bearer " + good,
             good + " ",
             " " + good,
             base64url::encode("not json") + "." + p + "." + sig,
             signed_with_header("not json"),
             signed_with_header("[]"),
             signed_with_header(R"("HS256")"),
             signed_with_header("{}"),
             signed_with_header(R"({"typ":"JWT"})"),
             signed_with_header(R"({"alg":null})"),
             signed_with_header(R"({"alg":256})"),
             signed_with_header(R"({"alg":["HS256"]})"),
             signed_with_header(R"({"alg":"HS256","typ":"JWS"})"),
             signed_with_header(R"({"alg":"HS256","typ":5})"),
             signed_with_header(R"({"alg":"HS256","crit":["exp"]})"),
             signed_with_header(R"({"alg":"HS256")"),
             h + "." + base64url::encode(std::string(9000, 'x')) + "." + sig,
         }) {
        CAPTURE(bad);
        CHECK(failure(v, bad) == jwt_failure::malformed);
    }
    CHECK(good.size() < jwt_verifier::max_token_bytes);
    must_verify(v, good);

    // The size limit is on the whole token, whatever the payload holds.
    std::string big_payload =
        R"({"exp":)" + std::to_string(now + 60) + R"(,"pad":")" + std::string(6500, 'x') + "\"}";
    std::string big = token(hs_header, big_payload, hs256(secret));
    REQUIRE(big.size() > jwt_verifier::max_token_bytes);
    CHECK(failure(v, big) == jwt_failure::malformed);
    std::string fits_payload =
        R"({"exp":)" + std::to_string(now + 60) + R"(,"pad":")" + std::string(5000, 'x') + "\"}";
    std::string fits = token(hs_header, fits_payload, hs256(secret));
    REQUIRE(fits.size() <= jwt_verifier::max_token_bytes);
    must_verify(v, fits);
}

TEST_CASE("jwt: describe() is short and never echoes the token", "[auth]") {
    std::set<std::string> seen;
    for (auto f : {jwt_failure::malformed, jwt_failure::unsupported_algorithm, jwt_failure::bad_signature,
                   jwt_failure::expired, jwt_failure::not_yet_valid, jwt_failure::missing_exp,
                   jwt_failure::bad_claims}) {
        std::string text = jwt_verifier::describe(f);
        CHECK_FALSE(text.empty());
        CHECK(text.size() < 80);
        seen.insert(text);
    }
    CHECK(seen.size() == 7);
}

TEST_CASE("jwt: make() refuses bad configurations with a message naming the file", "[auth]") {
    CHECK_THAT(make_error(std::nullopt, std::nullopt), Catch::Contains("--jwt-secret"));
    CHECK_THAT(make_error(std::string(), std::nullopt), Catch::Contains("empty"));

    std::string missing =
        (std::filesystem::temp_directory_path() / "kp_auth_jwt_does_not_exist.pem").string();
    std::string error = make_error(std::nullopt, missing);
    CHECK_THAT(error, Catch::Contains(missing));
    CHECK_THAT(error, Catch::Contains("cannot open"));
    // A secret does not excuse a broken key file.
    CHECK_THAT(make_error(secret, missing), Catch::Contains(missing));

    temp_file not_a_key("hello, I am not a key\n");
    CHECK_THAT(make_error(std::nullopt, not_a_key.path()), Catch::Contains(not_a_key.path()));
    CHECK_THAT(make_error(std::nullopt, not_a_key.path()), Catch::Contains("no PEM public key"));

    temp_file empty("");
    CHECK_THAT(make_error(std::nullopt, empty.path()), Catch::Contains(empty.path()));

    temp_file broken("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    CHECK_THAT(make_error(std::nullopt, broken.path()), Catch::Contains(broken.path()));

    temp_file private_key(private_pem(rsa_key()));
    CHECK_THAT(make_error(std::nullopt, private_key.path()), Catch::Contains("private key"));

    CHECK_THAT(make_error(std::nullopt, std::filesystem::temp_directory_path().string()),
               Catch::Contains(std::filesystem::temp_directory_path().string()));

    pkey_ptr small_rsa(EVP_RSA_gen(1024));
    REQUIRE(small_rsa != nullptr);
    temp_file small(public_pem(small_rsa.get()));
    CHECK_THAT(make_error(std::nullopt, small.path()),
               Catch::Contains("1024") && Catch::Contains(small.path()));

    pkey_ptr p384(EVP_EC_gen("P-384"));
    REQUIRE(p384 != nullptr);
    temp_file wrong_curve(public_pem(p384.get()));
    CHECK_THAT(make_error(std::nullopt, wrong_curve.path()),
               Catch::Contains("P-256") && Catch::Contains("secp384r1"));

    pkey_ptr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    REQUIRE(ed != nullptr);
    temp_file ed_pem(public_pem(ed.get()));
    CHECK_THAT(make_error(std::nullopt, ed_pem.path()),
               Catch::Contains("ED25519") && Catch::Contains(ed_pem.path()));
}

TEST_CASE("jwt: several HS256 secrets, any of them verifies (a rotation)", "[auth][jwt-rotation]") {
    kp::auth::jwt_key_options options;
    options.hs256_secrets = {"old-secret-of-at-least-32-bytes!", "new-secret-of-at-least-32-bytes!"};
    auto made = jwt_verifier::make(options);
    REQUIRE(std::holds_alternative<jwt_verifier>(made));
    auto const& v = std::get<jwt_verifier>(made);
    CHECK(v.secret_count() == 2);
    must_verify(v, token(hs_header, exp_payload(now + 60), hs256("old-secret-of-at-least-32-bytes!")));
    must_verify(v, token(hs_header, exp_payload(now + 60), hs256("new-secret-of-at-least-32-bytes!")));
    CHECK(failure(v, token(hs_header, exp_payload(now + 60), hs256("another-secret"))) == jwt_failure::bad_signature);

    options.hs256_secrets = {"good", ""};
    auto refused = jwt_verifier::make(options);
    REQUIRE(std::holds_alternative<std::string>(refused));
    CHECK(std::get<std::string>(refused) == "--jwt-secret is empty");
}

TEST_CASE("jwt: --jwt-issuer and --jwt-audience, checked when set", "[auth][jwt-claims]") {
    kp::auth::jwt_key_options options;
    options.hs256_secrets = {secret};
    options.issuer = "https://issuer.test";
    options.audience = "kinto-push";
    auto made = jwt_verifier::make(options);
    REQUIRE(std::holds_alternative<jwt_verifier>(made));
    auto const& v = std::get<jwt_verifier>(made);
    auto tok = [](std::string const& claims) {
        return token(hs_header, R"({"exp":)" + std::to_string(now + 60) + claims + "}", hs256(secret));
    };
    must_verify(v, tok(R"(,"iss":"https://issuer.test","aud":"kinto-push")"));
    must_verify(v, tok(R"(,"iss":"https://issuer.test","aud":["other","kinto-push"])"));
    CHECK(failure(v, tok(R"(,"iss":"https://issuer.test","aud":"other")")) == jwt_failure::wrong_audience);
    CHECK(failure(v, tok(R"(,"iss":"https://issuer.test","aud":["other"])")) == jwt_failure::wrong_audience);
    CHECK(failure(v, tok(R"(,"iss":"https://issuer.test","aud":[1])")) == jwt_failure::wrong_audience);
    CHECK(failure(v, tok(R"(,"iss":"https://issuer.test")")) == jwt_failure::wrong_audience);
    CHECK(failure(v, tok(R"(,"iss":"https://elsewhere.test","aud":"kinto-push")")) == jwt_failure::wrong_issuer);
    CHECK(failure(v, tok(R"(,"aud":"kinto-push")")) == jwt_failure::wrong_issuer);
    CHECK(failure(v, tok(R"(,"iss":["https://issuer.test"],"aud":"kinto-push")")) == jwt_failure::wrong_issuer);
    // An expired token says so first.
    CHECK(failure(v, token(hs_header, exp_payload(now - 600), hs256(secret))) == jwt_failure::expired);

    // Unset, neither claim is looked at (as before).
    must_verify(must_make(secret, std::nullopt), tok(R"(,"iss":7,"aud":{"x":1})"));

    options.audience = "";
    auto refused = jwt_verifier::make(options);
    REQUIRE(std::holds_alternative<std::string>(refused));
    CHECK(std::get<std::string>(refused) == "--jwt-audience is empty");
}
