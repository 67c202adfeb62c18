#pragma once
// Checks `Kinto-Push-Signature` headers on POST /v1/events (PROTOCOL.md section 2) and
// remembers the ones it accepted, so that each signature is used once.
//
// Header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Items are
// comma-separated in any order, with optional spaces or tabs around each; `t` must appear once
// (decimal digits only, the MAC covers its text as sent); `v1` may appear several times and
// any one matching passes (so a publisher can sign with an old and a new secret during a
// rotation); unknown keys (`v0`, future schemes) are ignored; empty items are ignored.
//
// check(header, body, now_s), in this order:
//   malformed   header empty, over 4096 bytes, an item without '=', no `t` or two of them, `t`
//               not a decimal number, no `v1`, or a `v1` that is not 64 hex digits
//   expired     |now_s - t| > window_s (a signature from the future is refused too)
//   invalid     no `v1` equals the MAC (compared with CRYPTO_memcmp)
//   replayed    this MAC was accepted before and is still inside the window
//   overloaded  the replay cache holds `cache_capacity` signatures that are all still inside
//               the window: a new one cannot be remembered, so it is refused (answer 503 or
//               401; the publisher retries later with a new signature)
//   allowed     recorded: the same signature (whatever the header's spelling) is `replayed`
//               until now_s > t + window_s, when it is forgotten (it is `expired` by then)
// The replay cache keys on a digest of the accepted MAC, i.e. on (t, body): the header and
// the secret are not stored. A publisher retrying the same body must sign it again with a
// later `t` (a retry within the same second gets the same signature and is `replayed`).
//
// Thread-safe: the MAC is computed outside the lock, and the cache is behind a mutex.

#include "auth/digest_hash.hpp"
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace kp::auth {

class signature_verifier {
public:
    enum class verdict { allowed, malformed, expired, invalid, replayed, overloaded };

    explicit signature_verifier(std::string secret, std::int64_t window_s = 300,
                                std::size_t cache_capacity = 500000);

    verdict check(std::string_view header, std::string_view body, std::int64_t now_s);

    // The full header value for `body` signed at `t`: "t=<t>,v1=<64 hex digits>".
    static std::string sign(std::string_view secret, std::int64_t t, std::string_view body);

    // Signatures remembered now (for metrics and tests). Those that left the window are
    // dropped on the next check() whose MAC is valid: refusals before that never take the lock.
    std::size_t cached() const;

    std::int64_t window() const { return window_s_; }
    std::size_t capacity() const { return capacity_; }

private:
    // 128 bits of SHA-256(MAC): collisions are out of reach and half the memory of a digest.
    using replay_key = std::array<unsigned char, 16>;

    using key_hash = digest_hash;

    struct entry {
        std::int64_t expires;  // the last second at which the signature is inside the window
        replay_key key;
        bool operator>(entry const& other) const { return expires > other.expires; }
    };

    // Drops every entry whose signature has left the window. Call with mutex_ held.
    void evict_(std::int64_t now_s);

    std::string secret_;
    std::int64_t window_s_;
    std::size_t capacity_;

    mutable std::mutex mutex_;
    std::unordered_set<replay_key, key_hash> seen_;
    // Ordered by expiry (soonest on top): signatures arrive with any `t` inside the window,
    // so arrival order is not expiry order.
    std::priority_queue<entry, std::vector<entry>, std::greater<>> by_expiry_;
};

}  // namespace kp::auth
