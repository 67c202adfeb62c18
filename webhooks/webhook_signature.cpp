#include "webhooks/webhook_signature.hpp"

#include "auth/hmac_sha256.hpp"
#include "text/base64.hpp"
#include "text/hex.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace kp::webhooks {

namespace {

constexpr std::size_t min_key_bytes = 24;
constexpr std::size_t max_key_bytes = 64;
constexpr std::size_t generated_key_bytes = 32;

// The key of a valid secret; nullopt otherwise.
std::optional<std::string> secret_key(std::string_view secret) {
    if (secret.substr(0, secret_prefix.size()) != secret_prefix) return std::nullopt;
    auto key = text::base64_decode(secret.substr(secret_prefix.size()));
    if (!key || key->size() < min_key_bytes || key->size() > max_key_bytes) return std::nullopt;
    return key;
}

// Appends `part` preceded by its length in decimal and ':', so that no two lists of parts
// make the same text.
void append_part(std::string& out, std::string_view part) {
    out += std::to_string(part.size());
    out += ':';
    out += part;
}

}  // namespace

std::string generate_secret() {
    std::array<unsigned char, generated_key_bytes> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
        throw std::runtime_error("RAND_bytes failed: no webhook secret");
    return std::string(secret_prefix) +
           text::base64_encode(std::string_view(reinterpret_cast<char const*>(key.data()), key.size()));
}

bool valid_secret(std::string_view secret) {
    return secret_key(secret).has_value();
}

std::optional<std::string> sign(std::string_view secret, std::string_view msg_id, std::int64_t timestamp_s,
                                std::string_view body) {
    auto const key = secret_key(secret);
    if (!key) return std::nullopt;
    std::string const timestamp = std::to_string(timestamp_s);
    auto const mac = auth::hmac_sha256(*key, {msg_id, ".", timestamp, ".", body});
    if (!mac) return std::nullopt;
    return "v1," + text::base64_encode(std::string_view(reinterpret_cast<char const*>(mac->data()), mac->size()));
}

std::string delivery_id(std::string_view webhook_id, std::string_view epoch, std::string_view channel,
                        std::uint64_t first, std::uint64_t last, std::string_view kind) {
    std::string text = "kinto-push webhook delivery 1\n";
    append_part(text, webhook_id);
    append_part(text, epoch);
    append_part(text, channel);
    append_part(text, std::to_string(first));
    append_part(text, std::to_string(last));
    append_part(text, kind);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_len = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &digest_len, EVP_sha256(), nullptr) != 1 ||
        digest_len < 16)
        throw std::runtime_error("SHA-256 failed: no webhook delivery id");
    return "msg_" + text::hex_encode(std::string_view(reinterpret_cast<char const*>(digest.data()), 16));
}

}  // namespace kp::webhooks
