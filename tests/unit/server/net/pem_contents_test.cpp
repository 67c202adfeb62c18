// server/net/pem_contents: what a PEM file holds, for the --tls-key start-up error.

#include "server/net/pem_contents.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::server::pem_contents;

TEST_CASE("pem_contents: a certificate given as the private key is named", "[tls][refusals]") {
    std::string const certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    pem_contents const cert(certificate);
    CHECK(cert.has_certificate());
    CHECK_FALSE(cert.has_private_key());
    CHECK_THAT(cert.not_a_private_key(), Catch::Contains("certificate, not a private key"));

    for (std::string label : {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"}) {
        CAPTURE(label);
        pem_contents const key("-----BEGIN " + label + "-----\nMIIE\n-----END " + label + "-----\n" + certificate);
        CHECK(key.has_private_key());
        CHECK(std::string(key.not_a_private_key()).empty());
    }
    CHECK_THAT(pem_contents("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n").not_a_private_key(),
               Catch::Contains("public key"));
    // Nothing recognised: nothing to add to OpenSSL's own message.
    CHECK(std::string(pem_contents("garbage").not_a_private_key()).empty());
    CHECK(std::string(pem_contents("-----BEGIN CERTIFI").not_a_private_key()).empty());
}
