#include "store/redis_endpoint.hpp"

#include "text/unsigned_number.hpp"

#include <charconv>

namespace kp::store {

namespace {

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
        if (ec != std::errc() || ptr != text.data() + i + 3) return std::nullopt;
        out.push_back(static_cast<char>(value));
        i += 2;
    }
    return out;
}

}  // namespace

std::variant<redis_endpoint, std::string> redis_endpoint::parse(std::string const& url) {
    redis_endpoint out;
    std::string_view rest(url);
    if (rest.starts_with("redis://")) {
        rest.remove_prefix(8);
    } else if (rest.starts_with("rediss://")) {
        rest.remove_prefix(9);
        out.tls = true;
    } else {
        return "must start with redis:// or rediss://";
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        auto userinfo = rest.substr(0, at);
        rest.remove_prefix(at + 1);
        auto colon = userinfo.find(':');
        auto user = percent_decode(userinfo.substr(0, colon));
        if (!user) return "bad percent-escape in the user name";
        if (!user->empty()) out.username = *user;
        if (colon != std::string_view::npos) {
            auto password = percent_decode(userinfo.substr(colon + 1));
            if (!password) return "bad percent-escape in the password";
            if (!password->empty()) out.password = *password;
        }
        if (out.username && !out.password) return "a user name needs a password (redis://USER:PASSWORD@HOST)";
    }
    std::string_view authority = rest;
    std::string_view path;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        authority = rest.substr(0, slash);
        path = rest.substr(slash + 1);
    }
    std::string_view port_text;
    if (authority.starts_with('[')) {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return "unterminated [IPv6] host";
        out.host = std::string(authority.substr(1, close - 1));
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return "expected :PORT after the [IPv6] host";
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (out.host.empty()) return "needs a host (redis://HOST:PORT/DB)";
    if (!port_text.empty() || authority.ends_with(':')) {
        auto port = text::parse_unsigned(port_text);
        if (!port || *port == 0 || *port > 65535) return "port must be a number from 1 to 65535";
        out.port = static_cast<std::uint16_t>(*port);
    }
    if (!path.empty()) {
        auto db = text::parse_unsigned(path);
        if (!db || *db > 1'000'000) return "the database must be a number (redis://HOST:PORT/0)";
        out.db = static_cast<int>(*db);
    }
    return out;
}

std::string redis_endpoint::describe() const {
    std::string host_text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return std::string(tls ? "rediss://" : "redis://") + host_text + ":" + std::to_string(port) + "/" +
           std::to_string(db);
}

}  // namespace kp::store
