// Fuzz target: the Kinto-Push-Signature header of publishers (auth/signature_verifier).
// The input is "<header>\n<body>". The header is checked against the body as it is; then the
// body is signed properly, which must be accepted once and refused as replayed after.
// Invariants: a header that is not "t=...,v1=..." is never accepted; a genuine signature is.

#include "auth/signature_verifier.hpp"
#include "fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using kp::auth::signature_verifier;
using verdict = signature_verifier::verdict;

namespace {

constexpr std::string_view secret = "fuzzing-secret";
constexpr std::int64_t now = 1717000000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const input(reinterpret_cast<char const*>(data), size);
    auto const newline = input.find('\n');
    std::string_view const header = input.substr(0, newline);
    std::string_view const body = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

    // A fresh verifier per input: the replay cache must not carry state between inputs.
    signature_verifier verifier{std::string(secret), 300, 64};
    auto const first = verifier.check(header, body, now);
    if (first == verdict::allowed) {
        FUZZ_CHECK(header.find("t=") != std::string_view::npos && header.find("v1=") != std::string_view::npos);
        FUZZ_CHECK(verifier.cached() == 1);
        FUZZ_CHECK(verifier.check(header, body, now) == verdict::replayed);
    } else {
        FUZZ_CHECK(verifier.cached() == 0);
    }

    // The same body signed within the window: allowed unless the fuzzed header was that very
    // signature (then it is a replay).
    std::string const genuine = signature_verifier::sign(secret, now - 1, body);
    auto const second = verifier.check(genuine, body, now);
    FUZZ_CHECK(second == verdict::allowed || (first == verdict::allowed && second == verdict::replayed));
    FUZZ_CHECK(verifier.check(genuine, body, now) == verdict::replayed);
    // Signed outside the window: expired, whatever the body.
    FUZZ_CHECK(verifier.check(signature_verifier::sign(secret, now - 301, body), body, now) == verdict::expired);
    return 0;
}
