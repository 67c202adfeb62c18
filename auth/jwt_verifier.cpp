#include "auth/jwt_verifier.hpp"

#include "auth/base64url.hpp"
#include "auth/hmac_sha256.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

namespace kp::auth {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_pem_bytes = 1 << 20;

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct md_ctx_free {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct bio_free {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct x509_free {
    void operator()(X509* p) const { X509_free(p); }
};
struct decoder_free {
    void operator()(OSSL_DECODER_CTX* p) const { OSSL_DECODER_CTX_free(p); }
};
struct ecdsa_sig_free {
    void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

// A public key from PEM text: SubjectPublicKeyInfo ("PUBLIC KEY"), PKCS#1 ("RSA PUBLIC KEY"),
// or the key of a certificate, the form in which identity providers often publish theirs.
pkey_ptr read_public_key(std::string const& pem) {
    EVP_PKEY* raw = nullptr;
    std::unique_ptr<OSSL_DECODER_CTX, decoder_free> dctx(OSSL_DECODER_CTX_new_for_pkey(
        &raw, "PEM", nullptr, nullptr, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, nullptr, nullptr));
    if (dctx) {
        auto const* data = reinterpret_cast<unsigned char const*>(pem.data());
        std::size_t len = pem.size();
        if (OSSL_DECODER_from_data(dctx.get(), &data, &len) == 1 && raw != nullptr) return pkey_ptr(raw);
    }
    std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return nullptr;
    std::unique_ptr<X509, x509_free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return nullptr;
    return pkey_ptr(X509_get_pubkey(cert.get()));
}

// NumericDate (RFC 7519): seconds, possibly with a fraction. Rounded towards the strict side
// by the caller's choice; nullopt when not a number or out of range.
std::optional<std::int64_t> numeric_date(json const& v, bool round_up) {
    if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<std::int64_t>();
    if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
        return static_cast<std::int64_t>(u);
    }
    if (v.is_number_float()) {
        double d = v.get<double>();
        constexpr double limit = 9007199254740992.0;  // 2^53
        if (!std::isfinite(d) || d > limit || d < -limit) return std::nullopt;
        return static_cast<std::int64_t>(round_up ? std::ceil(d) : std::floor(d));
    }
    return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) {
                   return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
               };
               return lower(x) == lower(y);
           });
}

bool digest_verify(EVP_PKEY* key, bool rsa_pkcs1, std::string_view data, unsigned char const* sig,
                   std::size_t sig_len) {
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    if (!ctx) return false;
    EVP_PKEY_CTX* pctx = nullptr;
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) return false;
    // RS256 is PKCS#1 v1.5 (RFC 7518 section 3.3); say so rather than trust the default.
    if (rsa_pkcs1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
    return EVP_DigestVerify(ctx.get(), sig, sig_len, reinterpret_cast<unsigned char const*>(data.data()),
                            data.size()) == 1;
}

}  // namespace

std::variant<jwt_verifier, std::string> jwt_verifier::make(std::optional<std::string> hs256_secret,
                                                           std::optional<std::string> public_key_pem_path) {
    if (!hs256_secret && !public_key_pem_path)
        return std::string("JWT verification needs --jwt-secret or --jwt-public-key");
    if (hs256_secret && hs256_secret->empty()) return std::string("--jwt-secret is empty");
    if (!public_key_pem_path) return jwt_verifier(std::move(hs256_secret), nullptr, key_kind::none);

    std::string const& path = *public_key_pem_path;
    std::string const where = "--jwt-public-key " + path + ": ";
    std::ifstream in(path, std::ios::binary);
    if (!in) return where + "cannot open the file (" + std::strerror(errno) + ")";
    std::string pem(max_pem_bytes + 1, '\0');
    in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    if (in.bad()) return where + "cannot read the file";
    pem.resize(static_cast<std::size_t>(in.gcount()));
    if (pem.size() > max_pem_bytes) return where + "the file is over 1 MiB: not a PEM public key";
    // The private key has no business on the push server: say so instead of using its public half.
    if (pem.find("PRIVATE KEY-----") != std::string::npos)
        return where + "the file holds a private key; give the public key (openssl pkey -pubout) instead";

    pkey_ptr key = read_public_key(pem);
    if (!key) return where + "no PEM public key (BEGIN PUBLIC KEY) or certificate in the file";

    key_kind kind = key_kind::none;
    if (EVP_PKEY_is_a(key.get(), "RSA")) {
        int bits = EVP_PKEY_get_bits(key.get());
        if (bits < 2048)
            return where + "RSA key of " + std::to_string(bits) +
                   " bits; RS256 needs at least 2048 (RFC 7518)";
        kind = key_kind::rsa;
    } else if (EVP_PKEY_is_a(key.get(), "EC")) {
        char group[80] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_group_name(key.get(), group, sizeof group, &len) != 1)
            return where + "EC key without a named curve; ES256 needs P-256";
        std::string_view name(group, len);
        if (name != "prime256v1" && name != "P-256" && name != "secp256r1")
            return where + "EC key on curve " + std::string(name) + "; ES256 needs P-256 (prime256v1)";
        kind = key_kind::ec_p256;
    } else {
        char const* type = EVP_PKEY_get0_type_name(key.get());
        return where + "unsupported key type " + (type ? type : "?") +
               "; use an RSA key (RS256) or an EC P-256 key (ES256)";
    }
    return jwt_verifier(std::move(hs256_secret), std::shared_ptr<EVP_PKEY>(key.release(), pkey_free{}), kind);
}

char const* jwt_verifier::public_key_algorithm() const {
    switch (kind_) {
    case key_kind::rsa:
        return "RS256";
    case key_kind::ec_p256:
        return "ES256";
    case key_kind::none:
        break;
    }
    return "";
}

bool jwt_verifier::verify_signature_(std::string_view alg, std::string_view signing_input,
                                     std::string_view signature) const {
    auto const* sig = reinterpret_cast<unsigned char const*>(signature.data());
    if (alg == "HS256") {
        auto mac = hmac_sha256(*secret_, {signing_input});
        // The length is public (always 32); only the bytes need a constant-time comparison.
        return mac && signature.size() == mac->size() && CRYPTO_memcmp(sig, mac->data(), mac->size()) == 0;
    }
    if (alg == "RS256") return digest_verify(key_.get(), true, signing_input, sig, signature.size());

    // ES256 (RFC 7518 section 3.4): r and s as two 32-byte big-endian integers; OpenSSL
    // verifies the DER SEQUENCE of two INTEGERs, so re-encode.
    if (signature.size() != 64) return false;
    std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> ecdsa(ECDSA_SIG_new());
    if (!ecdsa) return false;
    BIGNUM* r = BN_bin2bn(sig, 32, nullptr);
    BIGNUM* s = BN_bin2bn(sig + 32, 32, nullptr);
    if (r == nullptr || s == nullptr || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    unsigned char* der = nullptr;
    int der_len = i2d_ECDSA_SIG(ecdsa.get(), &der);
    if (der_len <= 0) return false;
    bool ok = digest_verify(key_.get(), false, signing_input, der, static_cast<std::size_t>(der_len));
    OPENSSL_free(der);
    return ok;
}

std::variant<jwt_claims, jwt_failure> jwt_verifier::verify(std::string_view token, std::int64_t now_s) const {
    if (token.empty() || token.size() > max_token_bytes) return jwt_failure::malformed;
    auto dot1 = token.find('.');
    if (dot1 == std::string_view::npos) return jwt_failure::malformed;
    auto dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
        return jwt_failure::malformed;
    std::string_view const header_b64 = token.substr(0, dot1);
    std::string_view const payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    std::string_view const signature_b64 = token.substr(dot2 + 1);
    if (header_b64.empty() || payload_b64.empty()) return jwt_failure::malformed;

    auto header_text = base64url::decode(header_b64);
    if (!header_text) return jwt_failure::malformed;
    json const header = json::parse(*header_text, nullptr, false);
    if (header.is_discarded() || !header.is_object()) return jwt_failure::malformed;
    auto alg_it = header.find("alg");
    if (alg_it == header.end() || !alg_it->is_string()) return jwt_failure::malformed;
    if (auto typ = header.find("typ"); typ != header.end()) {
        if (!typ->is_string() || !iequals(typ->get_ref<std::string const&>(), "JWT"))
            return jwt_failure::malformed;
    }
    // RFC 7515 section 4.1.11: extensions marked critical must be understood; we know none.
    if (header.contains("crit")) return jwt_failure::malformed;

    // Only the algorithms of the configured keys: the header never chooses the key type.
    std::string const& alg = alg_it->get_ref<std::string const&>();
    bool const supported = (alg == "HS256" && secret_) || (alg == "RS256" && kind_ == key_kind::rsa) ||
                           (alg == "ES256" && kind_ == key_kind::ec_p256);
    if (!supported) return jwt_failure::unsupported_algorithm;

    auto signature = base64url::decode(signature_b64);
    if (!signature) return jwt_failure::malformed;
    if (!verify_signature_(alg, token.substr(0, dot2), *signature)) return jwt_failure::bad_signature;

    // From here on the payload comes from the key's holder.
    auto payload_text = base64url::decode(payload_b64);
    if (!payload_text) return jwt_failure::malformed;
    json const payload = json::parse(*payload_text, nullptr, false);
    if (payload.is_discarded()) return jwt_failure::malformed;
    if (!payload.is_object()) return jwt_failure::bad_claims;

    jwt_claims claims;
    auto exp_it = payload.find("exp");
    if (exp_it == payload.end()) return jwt_failure::missing_exp;
    auto exp = numeric_date(*exp_it, false);
    if (!exp) return jwt_failure::bad_claims;
    claims.exp = *exp;
    if (auto it = payload.find("nbf"); it != payload.end()) {
        auto nbf = numeric_date(*it, true);
        if (!nbf) return jwt_failure::bad_claims;
        claims.nbf = *nbf;
    }
    if (auto it = payload.find("sub"); it != payload.end()) {
        if (!it->is_string()) return jwt_failure::bad_claims;
        claims.sub = it->get<std::string>();
    }
    if (auto it = payload.find("channels"); it != payload.end()) {
        if (!it->is_array()) return jwt_failure::bad_claims;
        claims.channels.reserve(it->size());
        for (auto const& item : *it) {
            if (!item.is_string()) return jwt_failure::bad_claims;
            auto pattern = channel_pattern::parse(item.get_ref<std::string const&>());
            if (!pattern) return jwt_failure::bad_claims;
            claims.channels.push_back(std::move(*pattern));
        }
    }
    if (auto it = payload.find("webhooks"); it != payload.end()) {
        if (!it->is_boolean()) return jwt_failure::bad_claims;
        claims.webhooks = it->get<bool>();
    }

    // Written so that no addition can overflow, whatever exp and nbf hold.
    if (now_s - leeway_s >= claims.exp) return jwt_failure::expired;
    if (claims.nbf && now_s + leeway_s < *claims.nbf) return jwt_failure::not_yet_valid;
    return claims;
}

char const* jwt_verifier::describe(jwt_failure failure) {
    switch (failure) {
    case jwt_failure::malformed:
        return "malformed token";
    case jwt_failure::unsupported_algorithm:
        return "token algorithm not accepted by this server";
    case jwt_failure::bad_signature:
        return "invalid token signature";
    case jwt_failure::expired:
        return "token expired";
    case jwt_failure::not_yet_valid:
        return "token not valid yet (nbf)";
    case jwt_failure::missing_exp:
        return "token has no expiry (exp)";
    case jwt_failure::bad_claims:
        return "invalid token claims";
    }
    return "invalid token";
}

bool jwt_verifier::allows(jwt_claims const& claims, std::string_view channel) {
    return std::any_of(claims.channels.begin(), claims.channels.end(),
                       [&](channel_pattern const& p) { return p.matches(channel); });
}

}  // namespace kp::auth
