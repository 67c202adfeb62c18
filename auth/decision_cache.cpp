#include "auth/decision_cache.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace kp::auth {

namespace {

struct md_ctx_free {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

}  // namespace

decision_cache::decision_cache(std::int64_t allowed_ttl_ms, std::int64_t denied_ttl_ms, std::size_t capacity)
    : allowed_ttl_ms_(allowed_ttl_ms), denied_ttl_ms_(denied_ttl_ms), capacity_(capacity) {}

decision_cache::key decision_cache::make_key_(std::string_view credential, std::string_view channel) {
    key out{};
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    unsigned int len = 0;
    // Should OpenSSL fail (out of memory), the all-zero key is never stored by put(), so get()
    // misses and the caller asks Kinto: failing open to "ask" is safe.
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), credential.data(), credential.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), "\n", 1) != 1 ||
        EVP_DigestUpdate(ctx.get(), channel.data(), channel.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
        return key{};
    }
    return out;
}

std::optional<bool> decision_cache::get(std::string_view credential, std::string_view channel,
                                        std::int64_t now_ms) {
    key const k = make_key_(credential, channel);
    if (k == key{}) return std::nullopt;
    std::lock_guard lock(mutex_);
    auto it = index_.find(k);
    if (it == index_.end()) return std::nullopt;
    if (now_ms >= it->second->expires_ms) {
        lru_.erase(it->second);
        index_.erase(it);
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->allowed;
}

void decision_cache::put(std::string_view credential, std::string_view channel, bool allowed,
                         std::int64_t now_ms) {
    std::int64_t const ttl = allowed ? allowed_ttl_ms_ : denied_ttl_ms_;
    if (ttl <= 0 || capacity_ == 0) return;
    key const k = make_key_(credential, channel);
    if (k == key{}) return;
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(k); it != index_.end()) {
        it->second->allowed = allowed;
        it->second->expires_ms = now_ms + ttl;
        lru_.splice(lru_.begin(), lru_, it->second);
        return;
    }
    if (index_.size() >= capacity_) {
        index_.erase(lru_.back().k);
        lru_.pop_back();
    }
    lru_.push_front(entry{k, allowed, now_ms + ttl});
    index_.emplace(k, lru_.begin());
}

std::size_t decision_cache::size() const {
    std::lock_guard lock(mutex_);
    return index_.size();
}

void decision_cache::clear() {
    std::lock_guard lock(mutex_);
    index_.clear();
    lru_.clear();
}

}  // namespace kp::auth
