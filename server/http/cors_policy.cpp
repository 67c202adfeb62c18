#include "server/http/cors_policy.hpp"

#include "web-demo/web_demo_assets.hpp"

#include <boost/beast/http/verb.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace kp::server {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view read_only = "GET, HEAD";
constexpr std::string_view webhooks_prefix = "/v1/webhooks/";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// Calls `each` on every non-empty item of a comma-separated list, trimmed; stops at the first
// item for which it returns false, and returns false then.
template <class F>
bool every_item(std::string_view list, F&& each) {
    while (true) {
        auto comma = list.find(',');
        auto item = trim(list.substr(0, comma));
        if (!item.empty() && !each(item)) return false;
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

std::string_view field_of(http_request const& request, http::field name) {
    auto it = request.find(name);
    return it == request.end() ? std::string_view{} : std::string_view(it->value());
}

http_response forbidden(http_request const& request, std::string const& message) {
    return error_response(403, kinto_errno::forbidden, message, request.version(), request.keep_alive());
}

}  // namespace

cors_policy::cors_policy(std::optional<auth::origin_list> cors_origins, std::optional<auth::origin_list> allowed_origins)
    : cors_(std::move(cors_origins)), allowed_(std::move(allowed_origins)) {}

std::string_view cors_policy::methods_of(std::string_view path) {
    if (path == "/v1" || path == "/v1/" || path == "/v1/history" || path == "/v1/sse" ||
        web_demo::is_client_module(path))
        return read_only;
    if (path == "/v1/channels" || path.starts_with("/v1/channels/")) return read_only;
    if (path == "/v1/webhooks") return "GET, HEAD, POST";
    if (path.starts_with(webhooks_prefix)) {
        auto rest = path.substr(webhooks_prefix.size());   // {id}, {id}/deliveries or {id}/replay
        auto slash = rest.find('/');
        if (slash == 0 || rest.empty()) return {};
        if (slash == std::string_view::npos) return "GET, HEAD, PATCH, DELETE";
        auto tail = rest.substr(slash);
        if (tail == "/deliveries") return read_only;
        if (tail == "/replay") return "POST";
    }
    return {};
}

bool cors_policy::origin_checked(std::string_view path) {
    return path == "/v1/ws" || path == "/v1/push" || path == "/v1/sse";
}

cors_policy::header_list cors_policy::response_headers(http_request const& request, std::string_view path) const {
    header_list out;
    if (!cors_ || methods_of(path).empty()) return out;
    if (cors_->any()) {
        out.emplace_back(http::field::access_control_allow_origin, "*");
        return out;
    }
    out.emplace_back(http::field::vary, "Origin");
    auto const origin = field_of(request, http::field::origin);
    if (!origin.empty() && cors_->contains(origin))
        out.emplace_back(http::field::access_control_allow_origin, std::string(origin));
    return out;
}

void cors_policy::add_headers(header_list const& headers, http::fields& into) {
    for (auto const& [name, value] : headers) {
        auto existing = into.find(name);
        if (name == http::field::vary && existing != into.end() && !existing->value().empty()) {
            into.set(name, std::string(existing->value()) + ", " + value);
        } else {
            into.set(name, value);
        }
    }
}

std::optional<http_response> cors_policy::preflight(http_request const& request, std::string_view path) const {
    if (!cors_ || request.method() != http::verb::options) return std::nullopt;
    auto const methods = methods_of(path);
    auto const origin = field_of(request, http::field::origin);
    auto const method = field_of(request, http::field::access_control_request_method);
    if (methods.empty() || origin.empty() || method.empty()) return std::nullopt;

    auto refuse = [&](std::string const& why) {
        std::string const message = "CORS preflight refused: " + why;
        spdlog::debug("{} ({} {})", message, printable(origin), printable(path));
        return forbidden(request, message);
    };
    if (!cors_->contains(origin))
        return refuse("origin " + printable(origin) + " is not in --cors-origins");
    bool const served = !every_item(methods, [&](std::string_view m) { return m != method; });
    if (!served)
        return refuse(printable(path) + " does not serve " + printable(method) + " (it serves " +
                      std::string(methods) + ")");
    std::string unknown;
    every_item(field_of(request, http::field::access_control_request_headers), [&](std::string_view asked) {
        bool const known = !every_item(allowed_headers, [&](std::string_view h) { return !iequals(h, asked); });
        if (!known) unknown = printable(asked);
        return known;
    });
    if (!unknown.empty())
        return refuse("header " + unknown + " is not allowed (only " + std::string(allowed_headers) + ")");

    auto response = empty_response(204, request.version(), request.keep_alive());
    add_headers(response_headers(request, path), response);
    response.set(http::field::access_control_allow_methods, methods);
    response.set(http::field::access_control_allow_headers, allowed_headers);
    response.set(http::field::access_control_max_age, max_age_seconds);
    return response;
}

bool cors_policy::origin_allowed(http_request const& request) const {
    if (!checks_origins()) return true;
    auto const origin = field_of(request, http::field::origin);
    return origin.empty() || allowed_->contains(origin);
}

std::optional<http_response> cors_policy::origin_refusal(http_request const& request, std::string_view path) const {
    if (!origin_checked(path) || origin_allowed(request)) return std::nullopt;
    return forbidden(request, "origin " + printable(field_of(request, http::field::origin)) +
                                  " may not connect to " + std::string(path) + " (not in --allowed-origins)");
}

std::string cors_policy::printable(std::string_view text, std::size_t max) {
    std::string out(text.substr(0, max));
    for (char& c : out)
        if (c < 0x20 || c > 0x7e) c = '?';
    if (text.size() > max) out += "...";
    return out;
}

}  // namespace kp::server
