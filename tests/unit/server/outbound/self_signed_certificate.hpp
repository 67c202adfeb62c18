#pragma once
// A self-signed certificate and its key (PEM), made with OpenSSL's API for the TLS tests of the
// webhook client: `subject_alt_name` as OpenSSL writes it ("IP:127.0.0.1", "DNS:a.example").

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace kp::test {

struct self_signed_certificate {
    std::string certificate_pem;
    std::string key_pem;

    static self_signed_certificate make(std::string const& subject_alt_name) {
        std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"), EVP_PKEY_free};
        std::unique_ptr<X509, decltype(&X509_free)> certificate{X509_new(), X509_free};
        if (!key || !certificate) throw std::runtime_error("OpenSSL could not make a key or certificate");
        X509_set_version(certificate.get(), 2);
        ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1);
        X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
        X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 3600);
        X509_set_pubkey(certificate.get(), key.get());
        auto* name = X509_get_subject_name(certificate.get());
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<unsigned char const*>("kinto-push test"),
                                   -1, -1, 0);
        X509_set_issuer_name(certificate.get(), name);
        X509V3_CTX context;
        X509V3_set_ctx_nodb(&context);
        X509V3_set_ctx(&context, certificate.get(), certificate.get(), nullptr, nullptr, 0);
        auto* extension = X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, subject_alt_name.c_str());
        if (extension == nullptr) throw std::runtime_error("bad subjectAltName");
        X509_add_ext(certificate.get(), extension, -1);
        X509_EXTENSION_free(extension);
        if (X509_sign(certificate.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("could not sign");
        return {pem(certificate.get()), pem(key.get())};
    }

private:
    template <typename Write>
    static std::string to_pem(Write write) {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), BIO_free};
        write(bio.get());
        char* data = nullptr;
        auto const size = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(size));
    }
    static std::string pem(X509* certificate) {
        return to_pem([&](BIO* bio) { PEM_write_bio_X509(bio, certificate); });
    }
    static std::string pem(EVP_PKEY* key) {
        return to_pem([&](BIO* bio) { PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); });
    }
};

}  // namespace kp::test
