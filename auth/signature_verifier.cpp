#include "auth/signature_verifier.hpp"

#include "auth/blanks.hpp"
#include "auth/hmac_sha256.hpp"
#include "text/hex.hpp"
#include "text/unsigned_number.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <optional>

namespace kp::auth {

namespace {

constexpr std::size_t max_header_bytes = 4096;


struct parsed_header {
    std::string_view t_text;
    std::int64_t t = 0;
    std::vector<std::string> macs;  // decoded v1 values, 32 bytes each
};

std::optional<parsed_header> parse_header(std::string_view header) {
    if (header.empty() || header.size() > max_header_bytes) return std::nullopt;
    parsed_header out;
    bool have_t = false;
    while (true) {
        auto comma = header.find(',');
        std::string_view item = trim_blanks(header.substr(0, comma));
        if (!item.empty()) {
            auto eq = item.find('=');
            if (eq == std::string_view::npos) return std::nullopt;
            std::string_view key = trim_blanks(item.substr(0, eq));
            std::string_view value = trim_blanks(item.substr(eq + 1));
            if (key == "t") {
                // At most 18 digits: always a valid signed 64-bit number of seconds.
                if (have_t || value.size() > 18) return std::nullopt;
                auto const t = text::parse_unsigned(value);
                if (!t) return std::nullopt;
                out.t = static_cast<std::int64_t>(*t);
                out.t_text = value;
                have_t = true;
            } else if (key == "v1") {
                if (value.size() != 64) return std::nullopt;
                auto mac = text::hex_decode(value);
                if (!mac) return std::nullopt;
                out.macs.push_back(std::move(*mac));
            }
        }
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    if (!have_t || out.macs.empty()) return std::nullopt;
    return out;
}

}  // namespace

signature_verifier::signature_verifier(std::string secret, std::int64_t window_s, std::size_t cache_capacity)
    : secret_(std::move(secret)), window_s_(window_s), capacity_(cache_capacity) {}

signature_verifier::verdict signature_verifier::check(std::string_view header, std::string_view body,
                                                      std::int64_t now_s) {
    auto parsed = parse_header(header);
    if (!parsed) return verdict::malformed;
    // t has at most 18 digits, so neither difference overflows for any sane now_s.
    if (now_s - parsed->t > window_s_ || parsed->t - now_s > window_s_) return verdict::expired;

    auto expected = hmac_sha256(secret_, {parsed->t_text, ".", body});
    if (!expected) return verdict::invalid;
    // Every candidate is compared, whatever the earlier ones gave.
    bool match = false;
    for (auto const& mac : parsed->macs) {
        match |= CRYPTO_memcmp(mac.data(), expected->data(), expected->size()) == 0;
    }
    if (!match) return verdict::invalid;

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(expected->data(), expected->size(), digest, &digest_len, EVP_sha256(), nullptr) != 1)
        return verdict::invalid;
    replay_key key{};
    std::memcpy(key.data(), digest, key.size());

    std::lock_guard lock(mutex_);
    evict_(now_s);
    if (seen_.contains(key)) return verdict::replayed;
    if (seen_.size() >= capacity_) return verdict::overloaded;
    seen_.insert(key);
    by_expiry_.push(entry{parsed->t + window_s_, key});
    return verdict::allowed;
}

void signature_verifier::evict_(std::int64_t now_s) {
    while (!by_expiry_.empty() && by_expiry_.top().expires < now_s) {
        seen_.erase(by_expiry_.top().key);
        by_expiry_.pop();
    }
}

std::size_t signature_verifier::cached() const {
    std::lock_guard lock(mutex_);
    return seen_.size();
}

std::string signature_verifier::sign(std::string_view secret, std::int64_t t, std::string_view body) {
    std::string const t_text = std::to_string(t);
    auto mac = hmac_sha256(secret, {t_text, ".", body});
    std::string const hex =
        mac ? text::hex_encode(std::string_view(reinterpret_cast<char const*>(mac->data()), mac->size()))
            : std::string();
    return "t=" + t_text + ",v1=" + hex;
}

}  // namespace kp::auth
