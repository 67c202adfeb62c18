#include "auth/jwt_verifier.hpp"

#include "auth/base64url.hpp"
#include "auth/hmac_sha256.hpp"
#include "auth/jwks_keyring.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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
struct bio_free {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct x509_free {
    void operator()(X509* p) const { X509_free(p); }
};
struct decoder_free {
    void operator()(OSSL_DECODER_CTX* p) const { OSSL_DECODER_CTX_free(p); }
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

}  // namespace

std::variant<jwt_verifier, std::string> jwt_verifier::make(std::optional<std::string> hs256_secret,
                                                           std::optional<std::string> public_key_pem_path) {
    jwt_key_options options;
    if (hs256_secret) options.hs256_secrets.push_back(std::move(*hs256_secret));
    options.public_key_pem_path = std::move(public_key_pem_path);
    return make(std::move(options));
}

std::variant<jwt_verifier, std::string> jwt_verifier::make(jwt_key_options options) {
    if (options.hs256_secrets.empty() && !options.public_key_pem_path && !options.jwks)
        return std::string("JWT verification needs --jwt-secret, --jwt-public-key or --jwt-jwks-url");
    for (auto const& secret : options.hs256_secrets)
        if (secret.empty()) return std::string("--jwt-secret is empty");
    if (options.audience && options.audience->empty()) return std::string("--jwt-audience is empty");
    if (options.issuer && options.issuer->empty()) return std::string("--jwt-issuer is empty");
    jwt_verifier out(std::move(options));
    if (!out.options_.public_key_pem_path) return out;

    std::string const& path = *out.options_.public_key_pem_path;
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
    auto adopted = public_key::adopt(key.release());
    if (auto const* why = std::get_if<std::string>(&adopted)) return where + *why;
    out.key_ = std::get<public_key>(std::move(adopted));
    return out;
}

char const* jwt_verifier::public_key_algorithm() const {
    return key_ ? key_->algorithm() : "";
}

bool jwt_verifier::secret_verifies(std::string_view signing_input, std::string_view signature) const {
    // Every secret is tried (a rotation has the old and the new one): which one matched is not
    // told by the time taken.
    bool ok = false;
    for (auto const& secret : options_.hs256_secrets) {
        auto mac = hmac_sha256(secret, {signing_input});
        // The length is public (always 32); only the bytes need a constant-time comparison.
        ok |= mac && signature.size() == mac->size() &&
              CRYPTO_memcmp(signature.data(), mac->data(), mac->size()) == 0;
    }
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
    std::optional<std::string> kid;
    if (auto it = header.find("kid"); it != header.end()) {
        if (!it->is_string()) return jwt_failure::malformed;
        kid = it->get<std::string>();
    }
    auto signature = base64url::decode(signature_b64);
    std::string_view const signing_input = token.substr(0, dot2);
    if (alg == "HS256") {
        if (options_.hs256_secrets.empty()) return jwt_failure::unsupported_algorithm;
        if (!signature) return jwt_failure::malformed;
        if (!secret_verifies(signing_input, *signature)) return jwt_failure::bad_signature;
    } else if (alg == "RS256" || alg == "ES256") {
        bool const pem_fits = key_ && alg == key_->algorithm();
        if (!pem_fits && !options_.jwks) return jwt_failure::unsupported_algorithm;
        if (!signature) return jwt_failure::malformed;
        // With a JWKS, a token names its key; the key's type decides the algorithm. A kid that
        // is not in the set falls back on --jwt-public-key, when there is one of this type.
        std::shared_ptr<jwks_keys const> held;   // keeps the key alive while it is used
        public_key const* named = nullptr;
        if (options_.jwks && kid) {
            held = options_.jwks->current();
            named = held ? held->find(*kid) : nullptr;
        }
        if (named) {
            if (alg != named->algorithm()) return jwt_failure::algorithm_mismatch;
            if (!named->verifies(alg, signing_input, *signature)) return jwt_failure::bad_signature;
        } else if (pem_fits) {
            if (!key_->verifies(alg, signing_input, *signature))
                return options_.jwks && kid ? jwt_failure::unknown_key : jwt_failure::bad_signature;
        } else {
            return kid ? jwt_failure::unknown_key : jwt_failure::missing_kid;
        }
    } else {
        return jwt_failure::unsupported_algorithm;
    }

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

    // --jwt-issuer and --jwt-audience: checked only when set (RFC 7519 sections 4.1.1, 4.1.3).
    if (options_.issuer) {
        auto it = payload.find("iss");
        if (it == payload.end() || !it->is_string() || *it != *options_.issuer) return jwt_failure::wrong_issuer;
    }
    if (options_.audience) {
        auto it = payload.find("aud");
        auto const is_ours = [&](json const& v) { return v.is_string() && v == *options_.audience; };
        bool const ours = it != payload.end() &&
                          (is_ours(*it) || (it->is_array() && std::any_of(it->begin(), it->end(), is_ours)));
        if (!ours) return jwt_failure::wrong_audience;
    }
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
    case jwt_failure::missing_kid:
        return "token names no signing key (kid)";
    case jwt_failure::unknown_key:
        return "token signing key (kid) unknown";
    case jwt_failure::algorithm_mismatch:
        return "token algorithm does not match its key (kid)";
    case jwt_failure::wrong_audience:
        return "token audience (aud) not accepted";
    case jwt_failure::wrong_issuer:
        return "token issuer (iss) not accepted";
    }
    return "invalid token";
}

bool jwt_verifier::allows(jwt_claims const& claims, std::string_view channel) {
    return std::any_of(claims.channels.begin(), claims.channels.end(),
                       [&](channel_pattern const& p) { return p.matches(channel); });
}

}  // namespace kp::auth
