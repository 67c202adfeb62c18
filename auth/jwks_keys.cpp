#include "auth/jwks_keys.hpp"

#include "auth/base64url.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <memory>
#include <optional>

namespace kp::auth {

namespace {

using json = nlohmann::json;

struct bn_free {
    void operator()(BIGNUM* p) const { BN_free(p); }
};
struct param_bld_free {
    void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct param_free {
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct pkey_ctx_free {
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

// A base64url member of the JWK, decoded; nullopt when absent, not a string or not base64url.
std::optional<std::string> member_bytes(json const& jwk, char const* name) {
    auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) return std::nullopt;
    auto bytes = base64url::decode(it->get_ref<std::string const&>());
    if (!bytes || bytes->empty()) return std::nullopt;
    return bytes;
}

// The public key OpenSSL builds from `params`, publicly checked (an EC point on its curve,
// an RSA modulus and exponent in range); null when it cannot.
EVP_PKEY* key_from(char const* type, OSSL_PARAM_BLD* bld) {
    std::unique_ptr<OSSL_PARAM, param_free> params(OSSL_PARAM_BLD_to_param(bld));
    std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr) return nullptr;
    std::unique_ptr<EVP_PKEY, pkey_free> key(raw);
    std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
    return key.release();
}

std::variant<public_key, std::string> rsa_key(json const& jwk) {
    auto n = member_bytes(jwk, "n");
    auto e = member_bytes(jwk, "e");
    if (!n || !e) return std::string("RSA key without base64url n and e");
    auto const* n_bytes = reinterpret_cast<unsigned char const*>(n->data());
    auto const* e_bytes = reinterpret_cast<unsigned char const*>(e->data());
    std::unique_ptr<BIGNUM, bn_free> bn_n(BN_bin2bn(n_bytes, static_cast<int>(n->size()), nullptr));
    std::unique_ptr<BIGNUM, bn_free> bn_e(BN_bin2bn(e_bytes, static_cast<int>(e->size()), nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
        return std::string("RSA key that OpenSSL cannot build");
    EVP_PKEY* key = key_from("RSA", bld.get());
    if (!key) return std::string("RSA key refused by OpenSSL (n and e are not a valid public key)");
    return public_key::adopt(key);
}

std::variant<public_key, std::string> ec_key(json const& jwk) {
    auto crv = jwk.find("crv");
    if (crv == jwk.end() || !crv->is_string()) return std::string("EC key without crv");
    if (*crv != "P-256") return "EC key on curve " + crv->get<std::string>() + "; ES256 needs P-256";
    auto x = member_bytes(jwk, "x");
    auto y = member_bytes(jwk, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32)
        return std::string("EC key without base64url x and y of 32 bytes each");
    std::string point = "\x04" + *x + *y;   // uncompressed SEC1 point
    std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
        return std::string("EC key that OpenSSL cannot build");
    EVP_PKEY* key = key_from("EC", bld.get());
    if (!key) return std::string("EC key whose x and y are not a point on P-256");
    return public_key::adopt(key);
}

// The key of one JWK, or why it is not used.
std::variant<public_key, std::string> key_of(json const& jwk) {
    if (auto use = jwk.find("use"); use != jwk.end() && *use != "sig")
        return "use is " + (use->is_string() ? use->get<std::string>() : use->dump()) + ", not sig";
    auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string()) return std::string("no kty");
    std::variant<public_key, std::string> made = std::string();
    if (*kty == "RSA") made = rsa_key(jwk);
    else if (*kty == "EC") made = ec_key(jwk);
    else return "kty " + kty->get<std::string>() + " is not used (RSA or EC only)";
    if (auto const* key = std::get_if<public_key>(&made)) {
        if (auto alg = jwk.find("alg"); alg != jwk.end() && *alg != key->algorithm())
            return "alg " + (alg->is_string() ? alg->get<std::string>() : alg->dump()) + " does not go with kty " +
                   kty->get<std::string>() + " (" + key->algorithm() + ")";
    }
    return made;
}

}  // namespace

std::variant<jwks_keys, std::string> jwks_keys::parse(std::string_view document) {
    if (document.size() > max_document_bytes)
        return "over " + std::to_string(max_document_bytes) + " bytes: not a JWKS document";
    json const doc = json::parse(document, nullptr, false);
    if (doc.is_discarded()) return std::string("not JSON");
    auto keys = doc.is_object() ? doc.find("keys") : doc.end();
    if (!doc.is_object() || keys == doc.end() || !keys->is_array())
        return std::string("not a JWKS document (a JSON object with a \"keys\" array)");
    if (keys->size() > max_keys) return "over " + std::to_string(max_keys) + " keys";

    jwks_keys out;
    std::size_t index = 0;
    for (auto const& jwk : *keys) {
        ++index;
        std::string const where = "key " + std::to_string(index);
        if (!jwk.is_object()) {
            out.skipped_.push_back(where + ": not a JSON object");
            continue;
        }
        auto kid = jwk.find("kid");
        if (kid == jwk.end() || !kid->is_string() || kid->get_ref<std::string const&>().empty()) {
            out.skipped_.push_back(where + ": no kid (tokens name their key by it)");
            continue;
        }
        std::string const& name = kid->get_ref<std::string const&>();
        std::string const named = where + " (kid " + name + ")";
        if (out.find(name)) {
            out.skipped_.push_back(named + ": kid seen before; the first counts");
            continue;
        }
        auto made = key_of(jwk);
        if (auto const* why = std::get_if<std::string>(&made)) {
            out.skipped_.push_back(named + ": " + *why);
            continue;
        }
        out.keys_.push_back({name, std::get<public_key>(std::move(made))});
    }
    if (out.keys_.empty())
        return "no usable key" + (out.skipped_.empty() ? std::string() : " (" + out.skipped_.front() + ")");
    return out;
}

public_key const* jwks_keys::find(std::string_view kid) const {
    auto it = std::find_if(keys_.begin(), keys_.end(), [&](entry const& e) { return e.kid == kid; });
    return it == keys_.end() ? nullptr : &it->key;
}

std::string jwks_keys::describe() const {
    std::string out;
    for (auto const& e : keys_) out += (out.empty() ? "" : ", ") + e.kid + " (" + e.key.algorithm() + ")";
    return out;
}

}  // namespace kp::auth
