#include "clients/cli/ws_url.hpp"

#include "text/unsigned_number.hpp"

#include <algorithm>
#include <cctype>

namespace kp::cli {

namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

std::variant<ws_url, std::string> ws_url::parse(std::string_view text) {
    ws_url url;
    auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) return std::string("must start with ws://, wss://, http:// or https://");
    std::string scheme = lower(text.substr(0, scheme_end));
    bool http = false;
    if (scheme == "ws") url.tls_ = false;
    else if (scheme == "wss") url.tls_ = true;
    else if (scheme == "http") url.tls_ = false, http = true;
    else if (scheme == "https") url.tls_ = true, http = true;
    else return "unsupported scheme '" + scheme + "' (use ws, wss, http or https)";

    std::string_view rest = text.substr(scheme_end + 3);
    for (char c : rest)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::string("must not contain spaces or control characters");
    if (auto hash = rest.find('#'); hash != std::string_view::npos) return std::string("must not have a #fragment");
    auto path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view path_and_query = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    if (authority.find('@') != std::string_view::npos) return std::string("must not carry user:password@ (use --token)");
    if (authority.empty()) return std::string("has no host");

    std::string_view port_text;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::string("has an unclosed [IPv6 address]");
        url.host_ = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::string("has text after the [IPv6 address]");
            port_text = after.substr(1);
            if (port_text.empty()) return std::string("has an empty port");
        }
    } else {
        auto colon = authority.rfind(':');
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return std::string("has an empty port");
            authority = authority.substr(0, colon);
        }
        if (authority.find(':') != std::string_view::npos) return std::string("IPv6 addresses go in brackets: [::1]:8080");
        url.host_ = lower(authority);
    }
    if (url.host_.empty()) return std::string("has no host");
    url.port_ = url.tls_ ? 443 : 80;
    if (!port_text.empty()) {
        auto const value = text::parse_unsigned(port_text);
        if (!value || *value == 0 || *value > 65535) return std::string("port must be a number from 1 to 65535");
        url.port_ = static_cast<std::uint16_t>(*value);
    }

    std::string_view path = path_and_query.substr(0, path_and_query.find('?'));
    std::string_view query = path.size() < path_and_query.size() ? path_and_query.substr(path.size()) : std::string_view();
    std::string target(path);
    if (http) {
        // An http(s) address names the server (or the prefix a proxy serves it under): the
        // WebSocket endpoint is below it.
        while (!target.empty() && target.back() == '/') target.pop_back();
        if (ends_with(target, "/v1/ws")) {
        } else if (ends_with(target, "/v1")) {
            target += "/ws";
        } else {
            target += "/v1/ws";
        }
    } else if (target.empty()) {
        target = "/v1/ws";
    }
    url.target_ = target + std::string(query);
    return url;
}

std::string ws_url::host_header() const {
    std::string out = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
    if (port_ != (tls_ ? 443 : 80)) out += ":" + std::to_string(port_);
    return out;
}

std::string ws_url::str() const {
    return std::string(tls_ ? "wss://" : "ws://") + host_header() + target_;
}

}  // namespace kp::cli
