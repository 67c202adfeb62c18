#include "server/net/tls_context_provider.hpp"

#include "server/net/pem_contents.hpp"

#include <openssl/ssl.h>

#include <fstream>
#include <sstream>

#include <stdexcept>

namespace kp::server {

namespace ssl = boost::asio::ssl;

tls_context_provider::tls_context_provider(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), current_(load()) {}

std::shared_ptr<ssl::context> tls_context_provider::load() const {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX* native = context->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    // TLS 1.2: ECDHE with AEAD ciphers only (TLS 1.3 suites are OpenSSL's defaults, all strong).
    SSL_CTX_set_cipher_list(native,
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    boost::system::error_code ec;
    context->use_certificate_chain_file(cert_file_, ec);
    if (ec) throw std::runtime_error("--tls-cert " + cert_file_ + ": " + ec.message());
    context->use_private_key_file(key_file_, ssl::context::pem, ec);
    if (ec) {
        // OpenSSL says "unsupported (DECODER routines)" for a certificate given as the key.
        std::ifstream in(key_file_);
        std::ostringstream text;
        text << in.rdbuf();
        std::string const why = pem_contents(text.str()).not_a_private_key();
        throw std::runtime_error("--tls-key " + key_file_ + ": " + (why.empty() ? ec.message() : why));
    }
    if (SSL_CTX_check_private_key(native) != 1)
        throw std::runtime_error("--tls-key " + key_file_ + ": does not match the certificate " + cert_file_);
    return context;
}

std::shared_ptr<ssl::context> tls_context_provider::current() const {
    std::lock_guard lock(mutex_);
    return current_;
}

std::string tls_context_provider::reload() {
    try {
        auto fresh = load();
        std::lock_guard lock(mutex_);
        current_ = std::move(fresh);
        return {};
    } catch (std::exception const& e) {
        return e.what();
    }
}

}  // namespace kp::server
