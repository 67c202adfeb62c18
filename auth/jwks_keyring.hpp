#pragma once
// The JWKS keys in use (--jwt-jwks-url), shared between the verifier, which reads them on the
// shards' threads, and server/access/jwks_source, which replaces them after each fetch. A
// reader holds the set it got for as long as it needs it; replace() never waits for readers.

#include "auth/jwks_keys.hpp"

#include <memory>
#include <mutex>

namespace kp::auth {

class jwks_keyring {
public:
    // The keys of the last good fetch; null before the first one.
    std::shared_ptr<jwks_keys const> current() const {
        std::lock_guard lock(mutex_);
        return keys_;
    }

    void replace(std::shared_ptr<jwks_keys const> keys) {
        std::lock_guard lock(mutex_);
        keys_ = std::move(keys);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<jwks_keys const> keys_;
};

}  // namespace kp::auth
