// Fuzz target: subscriber JWTs (auth/jwt_verifier, HS256 with a known secret).
// The first byte chooses how the rest is used:
//   even: the rest is a token, verified as it is (the parser of the three parts, base64url,
//         the header, the signature check);
//   odd:  the rest is "<header JSON>\n<payload JSON>", base64url-encoded and signed with the
//         secret, so that the claims are read too (exp, nbf, sub, channels).
// Invariants: base64url decodes what it encodes; accepted claims satisfy the verifier's
// contract (not expired at `now`, channel patterns that parse); a failure has a description.

#include "auth/base64url.hpp"
#include "auth/channel_pattern.hpp"
#include "auth/hmac_sha256.hpp"
#include "auth/jwt_verifier.hpp"
#include "fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using kp::auth::base64url;
using kp::auth::jwt_verifier;

namespace {

constexpr std::string_view secret = "fuzzing-secret";
constexpr std::int64_t now = 1717000000;

jwt_verifier const& verifier() {
    static jwt_verifier const v = std::get<jwt_verifier>(jwt_verifier::make(std::string(secret), std::nullopt));
    return v;
}

std::string sign(std::string_view header, std::string_view payload) {
    std::string const input = base64url::encode(header) + "." + base64url::encode(payload);
    auto const mac = kp::auth::hmac_sha256(secret, {input});
    FUZZ_CHECK(mac.has_value());
    return input + "." + base64url::encode(std::string_view(reinterpret_cast<char const*>(mac->data()), mac->size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view const rest(reinterpret_cast<char const*>(data) + 1, size - 1);

    auto const decoded = base64url::decode(base64url::encode(rest));
    FUZZ_CHECK(decoded && *decoded == rest);

    std::string token;
    if (data[0] % 2 == 0) {
        token = std::string(rest);
    } else {
        auto const newline = rest.find('\n');
        if (newline == std::string_view::npos) return 0;
        token = sign(rest.substr(0, newline), rest.substr(newline + 1));
    }
    auto const result = verifier().verify(token, now);
    if (auto const* failure = std::get_if<kp::auth::jwt_failure>(&result)) {
        FUZZ_CHECK(jwt_verifier::describe(*failure) != nullptr);
        return 0;
    }
    auto const& claims = std::get<kp::auth::jwt_claims>(result);
    FUZZ_CHECK(token.size() <= jwt_verifier::max_token_bytes);
    FUZZ_CHECK(now - jwt_verifier::leeway_s < claims.exp);
    if (claims.nbf) FUZZ_CHECK(now + jwt_verifier::leeway_s >= *claims.nbf);
    for (auto const& pattern : claims.channels) {
        auto const again = kp::auth::channel_pattern::parse(pattern.str());
        FUZZ_CHECK(again && *again == pattern);
        (void)jwt_verifier::allows(claims, pattern.str());
    }
    return 0;
}
