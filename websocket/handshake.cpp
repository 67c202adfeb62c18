#include "websocket/handshake.hpp"

#include <openssl/evp.h>

#include <array>

namespace kp::websocket {

bool valid_client_key(std::string_view key) {
    if (key.size() != 24 || !key.ends_with("==")) return false;
    for (std::size_t i = 0; i < 22; ++i) {
        char const c = key[i];
        bool const ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (!ok) return false;
    }
    return true;
}

std::string accept_key(std::string_view key) {
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string input(key);
    input.append(guid);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr);
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
    int const n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
    return std::string(reinterpret_cast<char const*>(encoded.data()), static_cast<std::size_t>(n));
}

}  // namespace kp::websocket
