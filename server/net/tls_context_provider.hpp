#pragma once
// The server's TLS configuration: a certificate chain and key (PEM) loaded into an OpenSSL
// context with modern defaults (TLS 1.2+, forward-secret AEAD ciphers), reloadable while
// serving (SIGHUP): new connections get the new context, open ones keep theirs.

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>
#include <string>

namespace kp::server {

class tls_context_provider {
public:
    // Throws std::runtime_error naming the file when the certificate or key cannot be used.
    tls_context_provider(std::string cert_file, std::string key_file);

    std::shared_ptr<boost::asio::ssl::context> current() const;
    // Loads the files again; on failure keeps the current context and returns the error.
    std::string reload();

private:
    std::shared_ptr<boost::asio::ssl::context> load() const;

    std::string cert_file_;
    std::string key_file_;
    mutable std::mutex mutex_;
    std::shared_ptr<boost::asio::ssl::context> current_;
};

}  // namespace kp::server
