#pragma once
// Recent answers of Kinto to "may this credential read this channel?", so that subscribing
// does not ask Kinto every time.
//
// Entries are keyed on SHA-256(credential + "\n" + channel): the credential (a Kinto
// Authorization header value) is never stored. An allowed answer is kept allowed_ttl_ms, a
// denied one denied_ttl_ms (usually shorter: a user just granted access should not wait);
// a TTL of 0 caches nothing of that kind.
//
// get(credential, channel, now_ms): the cached answer while now_ms < stored_at + ttl, else
//     nullopt (and the stale entry is dropped). A hit counts as a use.
// put(credential, channel, allowed, now_ms): stores or replaces the answer. When the cache
//     holds `capacity` entries, the least recently used (put or hit) is evicted; capacity 0
//     caches nothing.
// Errors of Kinto (timeouts, 5xx) are not decisions: do not put them.
// Thread-safe (one mutex); `now_ms` is any monotonic or wall clock, as long as it is the same one.

#include "auth/digest_hash.hpp"
#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace kp::auth {

class decision_cache {
public:
    decision_cache(std::int64_t allowed_ttl_ms, std::int64_t denied_ttl_ms, std::size_t capacity);

    std::optional<bool> get(std::string_view credential, std::string_view channel, std::int64_t now_ms);
    void put(std::string_view credential, std::string_view channel, bool allowed, std::int64_t now_ms);

    // Entries held now, stale ones included until they are looked up or evicted (for metrics).
    std::size_t size() const;
    void clear();

private:
    using key = std::array<unsigned char, 32>;

    using key_hash = digest_hash;

    struct entry {
        key k;
        bool allowed;
        std::int64_t expires_ms;  // stale from this instant on
    };

    static key make_key_(std::string_view credential, std::string_view channel);

    std::int64_t allowed_ttl_ms_;
    std::int64_t denied_ttl_ms_;
    std::size_t capacity_;

    mutable std::mutex mutex_;
    std::list<entry> lru_;  // most recently used first
    std::unordered_map<key, std::list<entry>::iterator, key_hash> index_;
};

}  // namespace kp::auth
