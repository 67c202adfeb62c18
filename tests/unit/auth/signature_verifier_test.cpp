// auth::signature_verifier: Kinto-Push-Signature (PROTOCOL.md section 2).

#include "auth/signature_verifier.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

using kp::auth::signature_verifier;
using verdict = kp::auth::signature_verifier::verdict;

namespace {

constexpr std::int64_t now = 1717000000;
std::string const secret = "publish-s3cret";
std::string const body = R"({"payload":{"action":"create"},"impacted_objects":[]})";

// The v1 value of a header made by sign().
std::string mac_of(std::string const& header) {
    auto pos = header.find("v1=");
    REQUIRE(pos != std::string::npos);
    return header.substr(pos + 3);
}

}  // namespace

TEST_CASE("signature: sign() gives t and 64 lower-case hex digits", "[auth]") {
    std::string header = signature_verifier::sign(secret, now, body);
    CHECK(header.rfind("t=1717000000,v1=", 0) == 0);
    std::string mac = mac_of(header);
    CHECK(mac.size() == 64);
    CHECK(mac.find_first_not_of("0123456789abcdef") == std::string::npos);
    // Known answers, from `printf %s '<t>.<body>' | openssl dgst -sha256 -hmac <secret>`.
    CHECK(signature_verifier::sign("key", 0, "The quick brown fox jumps over the lazy dog") ==
          "t=0,v1=8511f28f7a1949f0c42772b447d68b2daf760f5f0439a20a17e3b4e7cd395763");
    CHECK(signature_verifier::sign(secret, now, R"({"a":1})") ==
          "t=1717000000,v1=a7b54ba77da4baeddd2cfafbc93f91eac79ac393fbd04cfe929268023b192d67");
    CHECK(signature_verifier::sign(secret, now, body) == header);
    CHECK(signature_verifier::sign(secret, now + 1, body) != header);
    CHECK(signature_verifier::sign(secret, now, body + " ") != header);
    CHECK(signature_verifier::sign(secret + "x", now, body) != header);
}

TEST_CASE("signature: a valid signature is allowed once", "[auth]") {
    signature_verifier v(secret);
    std::string header = signature_verifier::sign(secret, now, body);
    CHECK(v.check(header, body, now) == verdict::allowed);
    CHECK(v.cached() == 1);
    CHECK(v.check(header, body, now) == verdict::replayed);
    CHECK(v.check(header, body, now + 100) == verdict::replayed);
    // The same signature spelt differently is the same signature.
    std::string mac = mac_of(header);
    CHECK(v.check("v1=" + mac + ", t=1717000000", body, now) == verdict::replayed);
    std::string upper = mac;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(v.check("t=1717000000,v1=" + upper, body, now) == verdict::replayed);
    CHECK(v.cached() == 1);

    // Another body, or the same body at another second, is another signature.
    CHECK(v.check(signature_verifier::sign(secret, now, "{}"), "{}", now) == verdict::allowed);
    CHECK(v.check(signature_verifier::sign(secret, now + 1, body), body, now) == verdict::allowed);
    CHECK(v.cached() == 3);
}

TEST_CASE("signature: wrong secret or altered body is invalid", "[auth]") {
    signature_verifier v(secret);
    CHECK(v.check(signature_verifier::sign("other", now, body), body, now) == verdict::invalid);
    CHECK(v.check(signature_verifier::sign(secret.substr(1), now, body), body, now) == verdict::invalid);
    std::string header = signature_verifier::sign(secret, now, body);
    CHECK(v.check(header, body + " ", now) == verdict::invalid);
    CHECK(v.check(header, body.substr(1), now) == verdict::invalid);
    CHECK(v.check(header, "", now) == verdict::invalid);
    // The t in the header is part of what is signed.
    std::string shifted = "t=1717000001,v1=" + mac_of(header);
    CHECK(v.check(shifted, body, now) == verdict::invalid);
    std::string padded_t = "t=01717000000,v1=" + mac_of(header);
    CHECK(v.check(padded_t, body, now) == verdict::invalid);
    // A flipped hex digit.
    std::string mac = mac_of(header);
    mac[10] = mac[10] == '0' ? '1' : '0';
    CHECK(v.check("t=1717000000,v1=" + mac, body, now) == verdict::invalid);
    CHECK(v.cached() == 0);
    // The genuine one still passes: refusals record nothing.
    CHECK(v.check(header, body, now) == verdict::allowed);
}

TEST_CASE("signature: outside the window, past or future, is expired", "[auth]") {
    signature_verifier v(secret, 300);
    CHECK(v.check(signature_verifier::sign(secret, now - 301, body), body, now) == verdict::expired);
    CHECK(v.check(signature_verifier::sign(secret, now + 301, body), body, now) == verdict::expired);
    CHECK(v.check(signature_verifier::sign(secret, 0, body), body, now) == verdict::expired);
    CHECK(v.check(signature_verifier::sign(secret, now - 300, body), body, now) == verdict::allowed);
    CHECK(v.check(signature_verifier::sign(secret, now + 300, body), body, now) == verdict::allowed);
    // Expiry is judged before the MAC: a stale forgery is also just expired.
    CHECK(v.check(signature_verifier::sign("other", now - 1000, body), body, now) == verdict::expired);
}

TEST_CASE("signature: malformed headers", "[auth]") {
    signature_verifier v(secret);
    std::string mac = mac_of(signature_verifier::sign(secret, now, body));
    for (std::string const& header : std::vector<std::string>{
             std::string(),
             std::string("   "),
             std::string(","),
             "v1=" + mac,                                   // no t
             std::string("t=1717000000"),                   // no v1
             "t=1717000000,v0=" + mac,                      // only an unknown scheme
             "t=,v1=" + mac,                                // empty t
             "t=abc,v1=" + mac,                             // t not a number
             "t=-5,v1=" + mac,                              // t signed
             "t=+1717000000,v1=" + mac,                     // t signed
             "t=1717000000.5,v1=" + mac,                    // t with a fraction
             "t=99999999999999999999999,v1=" + mac,         // t beyond int64
             "t=1717000000,t=1717000000,v1=" + mac,         // two t
             "t=1717000000,v1=" + mac.substr(0, 63) + "g",  // non-hex digit
             "t=1717000000,v1=" + mac.substr(2),            // too short
             "t=1717000000,v1=" + mac + "00",               // too long
             "t=1717000000,v1=",                            // empty v1
             "t=1717000000,v1=" + mac + ",garbage",         // item without '='
             std::string("garbage"),
             std::string("Bearer publish-s3cret"),
             "t=1717000000;v1=" + mac,                           // wrong separator
             "T=1717000000,V1=" + mac,                           // keys are case-sensitive
             "t=1717000000,v1=" + mac + ",v1=xyz",               // one bad v1 spoils the header
             "t=1717000000,v1=" + mac + std::string(5000, ' '),  // over 4 KiB
         }) {
        CAPTURE(header);
        CHECK(v.check(header, body, now) == verdict::malformed);
    }
    CHECK(v.cached() == 0);
}

TEST_CASE("signature: tolerant spelling, several v1, unknown keys", "[auth]") {
    signature_verifier v(secret);
    std::string good = mac_of(signature_verifier::sign(secret, now, body));
    std::string other = mac_of(signature_verifier::sign("old-secret", now, body));

    SECTION("order, spaces after commas and around items") {
        CHECK(v.check("v1=" + good + ", t=1717000000", body, now) == verdict::allowed);
    }
    SECTION("tabs and a trailing comma") {
        CHECK(v.check("t=1717000000,\tv1=" + good + " ,", body, now) == verdict::allowed);
    }
    SECTION("any matching v1 passes, wherever it is") {
        CHECK(v.check("t=1717000000,v1=" + other + ",v1=" + good, body, now) == verdict::allowed);
    }
    SECTION("first of several") {
        CHECK(v.check("t=1717000000,v1=" + good + ",v1=" + other, body, now) == verdict::allowed);
    }
    SECTION("unknown keys are ignored") {
        CHECK(v.check("t=1717000000,v0=whatever,v1=" + good + ",k=x", body, now) == verdict::allowed);
    }
    SECTION("no matching v1 among several") {
        std::string third = mac_of(signature_verifier::sign("third", now, body));
        CHECK(v.check("t=1717000000,v1=" + other + ",v1=" + third, body, now) == verdict::invalid);
    }
}

TEST_CASE("signature: the replay cache forgets signatures once they leave the window", "[auth]") {
    signature_verifier v(secret, 300);
    std::string h1 = signature_verifier::sign(secret, now, "a");
    std::string h2 = signature_verifier::sign(secret, now + 100, "b");
    std::string h3 = signature_verifier::sign(secret, now - 200, "c");
    CHECK(v.check(h1, "a", now) == verdict::allowed);
    CHECK(v.check(h2, "b", now) == verdict::allowed);
    CHECK(v.check(h3, "c", now) == verdict::allowed);
    CHECK(v.cached() == 3);

    // h3 (t = now-200) stays replayable up to now+100 inclusive, then is expired. Forgetting
    // happens when a MAC-valid signature reaches the cache (garbage never takes the lock).
    CHECK(v.check(h3, "c", now + 100) == verdict::replayed);
    CHECK(v.check(h3, "c", now + 101) == verdict::expired);
    CHECK(v.cached() == 3);
    CHECK(v.check(signature_verifier::sign(secret, now + 101, "d"), "d", now + 101) == verdict::allowed);
    CHECK(v.cached() == 3);  // c gone, d in

    CHECK(v.check(h1, "a", now + 300) == verdict::replayed);
    CHECK(v.check(h1, "a", now + 301) == verdict::expired);
    CHECK(v.check(signature_verifier::sign(secret, now + 301, "e"), "e", now + 301) == verdict::allowed);
    CHECK(v.cached() == 3);  // a gone, e in: b, d, e

    CHECK(v.check(h2, "b", now + 400) == verdict::replayed);
    CHECK(v.check(signature_verifier::sign(secret, now + 700, "f"), "f", now + 700) == verdict::allowed);
    CHECK(v.cached() == 1);  // b (until now+400), d (until now+401), e (until now+601) gone
}

TEST_CASE("signature: a full cache refuses new signatures as overloaded", "[auth]") {
    signature_verifier v(secret, 300, 2);
    CHECK(v.capacity() == 2);
    CHECK(v.check(signature_verifier::sign(secret, now, "a"), "a", now) == verdict::allowed);
    CHECK(v.check(signature_verifier::sign(secret, now + 10, "b"), "b", now + 10) == verdict::allowed);
    std::string third = signature_verifier::sign(secret, now + 20, "c");
    CHECK(v.check(third, "c", now + 20) == verdict::overloaded);
    CHECK(v.cached() == 2);
    // A replay is still called a replay when full; a bad one still invalid.
    CHECK(v.check(signature_verifier::sign(secret, now, "a"), "a", now + 20) == verdict::replayed);
    CHECK(v.check(signature_verifier::sign("x", now + 20, "c"), "c", now + 20) == verdict::invalid);
    // Once "a" leaves the window (now + 300), there is room again: the refused signature
    // was not recorded, so it passes now.
    CHECK(v.check(third, "c", now + 301) == verdict::allowed);
    CHECK(v.cached() == 2);
    CHECK(v.check(signature_verifier::sign(secret, now + 302, "d"), "d", now + 302) == verdict::overloaded);
}

TEST_CASE("signature: capacity 0 refuses every signature", "[auth]") {
    signature_verifier v(secret, 300, 0);
    CHECK(v.check(signature_verifier::sign(secret, now, body), body, now) == verdict::overloaded);
}
