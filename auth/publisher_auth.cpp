#include "auth/publisher_auth.hpp"

#include "auth/constant_time.hpp"

namespace kp::auth {

publisher_auth::publisher_auth(std::optional<std::string> secret) : secret_(std::move(secret)) {
    if (secret_) signatures_ = std::make_unique<signature_verifier>(*secret_);
}

signature_verifier::verdict publisher_auth::check_signature(std::string_view header, std::string_view body,
                                                            std::int64_t now_s) const {
    if (!signatures_) return signature_verifier::verdict::invalid;
    return signatures_->check(header, body, now_s);
}

publisher_auth::verdict publisher_auth::check(std::string_view authorization, bool loopback) const {
    if (!secret_) return loopback ? verdict::allowed : verdict::invalid;
    if (authorization.empty()) return verdict::missing;
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.size() <= scheme.size()) return verdict::invalid;
    // The scheme is case-insensitive (RFC 7235).
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        char c = authorization[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        char s = scheme[i];
        if (s >= 'A' && s <= 'Z') s = static_cast<char>(s - 'A' + 'a');
        if (c != s) return verdict::invalid;
    }
    return constant_time_equal(authorization.substr(scheme.size()), *secret_) ? verdict::allowed
                                                                              : verdict::invalid;
}

}  // namespace kp::auth
