#include "server/net/pem_contents.hpp"

namespace kp::server {

namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

pem_contents::pem_contents(std::string_view text) {
    constexpr std::string_view begin = "-----BEGIN ";
    constexpr std::string_view dashes = "-----";
    for (std::size_t at = text.find(begin); at != std::string_view::npos; at = text.find(begin, at + 1)) {
        auto const start = at + begin.size();
        auto const end = text.find(dashes, start);
        if (end == std::string_view::npos) break;
        auto const label = text.substr(start, end - start);
        if (ends_with(label, "PRIVATE KEY")) private_key_ = true;
        else if (ends_with(label, "CERTIFICATE")) certificate_ = true;
        else if (ends_with(label, "PUBLIC KEY")) public_key_ = true;
    }
}

const char* pem_contents::not_a_private_key() const {
    if (private_key_) return "";
    if (certificate_) return "holds a certificate, not a private key (the certificate goes to --tls-cert)";
    if (public_key_) return "holds a public key, not the private key";
    return "";
}

}  // namespace kp::server
