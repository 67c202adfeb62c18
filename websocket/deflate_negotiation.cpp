#include "websocket/deflate_negotiation.hpp"

#include <algorithm>
#include <cctype>

namespace kp::websocket {

namespace {

bool same(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

// A window size as RFC 7692 writes it: 8 to 15, in decimal, without a leading zero.
std::optional<int> window_bits(std::string_view v) {
    if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return v[0] - '0';
    if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
    return std::nullopt;
}

// Why one parameter is refused (empty: it is fine); `seen` holds the parameters met so far.
struct seen_params {
    bool server_no_context = false;
    bool client_no_context = false;
    bool client_bits = false;
    bool server_bits = false;
};

std::string judge(extension_param const& p, seen_params& seen) {
    auto const first = [&](bool& flag) {
        bool const was = flag;
        flag = true;
        return !was;
    };
    if (same(p.name, "server_no_context_takeover") || same(p.name, "client_no_context_takeover")) {
        bool& flag = same(p.name, "server_no_context_takeover") ? seen.server_no_context : seen.client_no_context;
        if (!first(flag)) return "duplicate parameter " + p.name;
        if (p.value) return p.name + " takes no value";
        return {};
    }
    if (same(p.name, "client_max_window_bits")) {
        if (!first(seen.client_bits)) return "duplicate parameter " + p.name;
        if (p.value && !window_bits(*p.value)) return p.name + " must be 8 to 15";
        return {};
    }
    if (same(p.name, "server_max_window_bits")) {
        if (!first(seen.server_bits)) return "duplicate parameter " + p.name;
        if (!p.value) return p.name + " needs a value";
        auto const bits = window_bits(*p.value);
        if (!bits) return p.name + " must be 8 to 15";
        if (*bits != 15) return p.name + " below 15 (frames are shared, compressed with a 15-bit window)";
        return {};
    }
    return "unknown parameter " + p.name;
}

}  // namespace

std::string deflate_negotiation::refusal(extension_offer const& offer) {
    if (!same(offer.name, "permessage-deflate")) return "not permessage-deflate";
    seen_params seen;
    for (auto const& p : offer.params)
        if (auto why = judge(p, seen); !why.empty()) return why;
    return {};
}

std::optional<std::string> deflate_negotiation::answer(std::string_view header) {
    for (auto const& offer : parse_extension_offers(header)) {
        if (!refusal(offer).empty()) continue;
        std::string out = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
        bool const server_bits = std::any_of(offer.params.begin(), offer.params.end(),
                                             [](auto const& p) { return same(p.name, "server_max_window_bits"); });
        if (server_bits) out += "; server_max_window_bits=15";
        return out;
    }
    return std::nullopt;
}

}  // namespace kp::websocket
