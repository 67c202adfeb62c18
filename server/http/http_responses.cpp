#include "server/http/http_responses.hpp"

#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

namespace kp::server {

namespace http = boost::beast::http;

http_response text_response(unsigned status, std::string_view content_type, std::string body, unsigned version,
                            bool keep_alive) {
    http_response res{static_cast<http::status>(status), version};
    res.set(http::field::server, "kinto-push/" KINTO_PUSH_VERSION);
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-cache");
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

http_response empty_response(unsigned status, unsigned version, bool keep_alive) {
    http_response res{static_cast<http::status>(status), version};
    res.set(http::field::server, "kinto-push/" KINTO_PUSH_VERSION);
    res.keep_alive(keep_alive);   // no prepare_payload(): it would write Content-Length: 0
    return res;
}

http_response json_response(unsigned status, nlohmann::json const& body, unsigned version, bool keep_alive) {
    // Messages may quote what a client sent (a path percent-decoded to bytes that are not
    // UTF-8): replaced by U+FFFD instead of an exception from dump().
    return text_response(status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         version, keep_alive);
}

http_response error_response(unsigned status, int errno_value, std::string const& message, unsigned version,
                             bool keep_alive) {
    // Kinto titles validation errors "Invalid parameters", other errors by their status.
    std::string title = errno_value == kinto_errno::invalid_parameters
                            ? "Invalid parameters"
                            : std::string(http::obsolete_reason(static_cast<http::status>(status)));
    nlohmann::json body = {{"code", status},
                           {"errno", errno_value},
                           {"error", title},
                           {"message", message}};
    return json_response(status, body, version, keep_alive);
}

}  // namespace kp::server
