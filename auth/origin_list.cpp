#include "auth/origin_list.hpp"

#include "auth/blanks.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>

namespace kp::auth {

namespace {

constexpr std::size_t max_origin_length = 512;

char lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string lowered(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

// Writes `item` as browsers serialize it into `out`, or says why it is not an origin.
std::optional<std::string> normalize(std::string_view item, std::string& out) {
    std::string const quoted = "'" + std::string(item) + "'";
    std::string const shape = ": an origin is scheme://host[:port], e.g. https://app.example.com";
    if (item.size() > max_origin_length)
        return quoted.substr(0, 64) + "…': longer than " + std::to_string(max_origin_length) + " characters";
    if (item == "null")
        return quoted + ": the opaque origin 'null' (sandboxed frames, file: pages) cannot be listed" + shape;

    auto const sep = item.find("://");
    if (sep == std::string_view::npos || sep == 0) return quoted + ": no scheme" + shape;
    std::string_view const scheme = item.substr(0, sep);
    if (!is_alpha(scheme.front()) ||
        !std::all_of(scheme.begin(), scheme.end(), [](char c) {
            return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
        }))
        return quoted + ": '" + std::string(scheme) + "' is not a URL scheme" + shape;

    std::string_view rest = item.substr(sep + 3);
    if (auto cut = rest.find_first_of("/?#"); cut != std::string_view::npos) {
        return quoted + ": an origin has no path, query or fragment (not even a trailing slash): " +
               lowered(scheme) + "://" + std::string(rest.substr(0, cut));
    }
    if (rest.find('@') != std::string_view::npos) return quoted + ": an origin has no user name or password" + shape;
    if (rest.find('*') != std::string_view::npos)
        return quoted + ": no wildcards inside an origin; list each origin, or give * alone for any origin";

    // host: a name (letters, digits, '-', '.', '_') or an IPv6 literal in brackets
    std::string_view host = rest;
    std::string_view port;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos) return quoted + ": unclosed '[' in an IPv6 address" + shape;
        host = rest.substr(0, close + 1);
        auto literal = host.substr(1, host.size() - 2);
        if (literal.empty() || !std::all_of(literal.begin(), literal.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
            }))
            return quoted + ": '" + std::string(host) + "' is not an IPv6 address" + shape;
        auto after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return quoted + ": unexpected text after the host" + shape;
            port = after.substr(1);
            if (port.empty()) return quoted + ": empty port" + shape;
        }
    } else {
        if (auto colon = rest.find(':'); colon != std::string_view::npos) {
            host = rest.substr(0, colon);
            port = rest.substr(colon + 1);
            if (port.empty()) return quoted + ": empty port" + shape;
        }
        if (host.empty()) return quoted + ": no host" + shape;
        if (!std::all_of(host.begin(), host.end(), [](char c) {
                return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
            }))
            return quoted + ": '" + std::string(host) + "' is not a host name" + shape;
    }

    out = lowered(scheme) + "://" + lowered(host);
    if (!port.empty()) {
        if (!std::all_of(port.begin(), port.end(), is_digit) || port.size() > 5)
            return quoted + ": the port must be a number from 1 to 65535";
        std::uint32_t number = 0;
        for (char c : port) number = number * 10 + static_cast<std::uint32_t>(c - '0');
        if (number == 0 || number > 65535) return quoted + ": the port must be a number from 1 to 65535";
        std::string const s = lowered(scheme);
        bool const default_port = (s == "http" && number == 80) || (s == "https" && number == 443);
        if (!default_port) out += ":" + std::to_string(number);
    }
    return std::nullopt;
}

}  // namespace

std::variant<origin_list, std::string> origin_list::parse(std::string_view list) {
    std::vector<std::string> origins;
    bool any = false;
    std::size_t items = 0;
    while (true) {
        auto comma = list.find(',');
        std::string_view item = trim_blanks(list.substr(0, comma));
        if (!item.empty()) {
            ++items;
            if (item == "*") {
                any = true;
            } else {
                std::string origin;
                if (auto why = normalize(item, origin)) return *why;
                if (std::find(origins.begin(), origins.end(), origin) == origins.end())
                    origins.push_back(std::move(origin));
            }
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    if (items == 0) return std::string("names no origin: give * (any origin) or scheme://host[:port],…");
    if (any && !origins.empty())
        return "'*' with '" + origins.front() + "': * stands alone (any origin); it cannot be listed with other origins";
    return origin_list(any, std::move(origins));
}

bool origin_list::contains(std::string_view origin) const {
    if (any_) return true;
    return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

std::string origin_list::str() const {
    if (any_) return "*";
    std::string out;
    for (auto const& o : origins_) out += (out.empty() ? "" : ",") + o;
    return out;
}

}  // namespace kp::auth
