#pragma once
// What a PEM file holds, from its "-----BEGIN <label>-----" lines: so that a start-up error
// can say "this is a certificate, not a key" instead of OpenSSL's "unsupported (DECODER
// routines)".

#include <string_view>

namespace kp::server {

class pem_contents {
public:
    explicit pem_contents(std::string_view text);

    bool has_private_key() const { return private_key_; }   // "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", …
    bool has_certificate() const { return certificate_; }   // "CERTIFICATE", "TRUSTED CERTIFICATE"
    bool has_public_key() const { return public_key_; }     // "PUBLIC KEY", "RSA PUBLIC KEY"

    // Why a file meant as a private key is not one ("" when it holds one, or nothing is known).
    const char* not_a_private_key() const;

private:
    bool private_key_ = false;
    bool certificate_ = false;
    bool public_key_ = false;
};

}  // namespace kp::server
