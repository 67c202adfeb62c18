#pragma once
// Building HTTP responses, errors in Kinto's shape:
// {"code": 400, "errno": 107, "error": "Invalid parameters", "message": "…"}.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json_fwd.hpp>

#include <string>

namespace kp::server {

using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// Kinto's errno values (kinto/core/errors.py) that kinto-push answers with.
namespace kinto_errno {
inline constexpr int missing_auth_token = 104;
inline constexpr int invalid_auth_token = 105;
inline constexpr int bad_json = 106;
inline constexpr int invalid_parameters = 107;
inline constexpr int missing_resource = 111;
inline constexpr int request_too_large = 113;
inline constexpr int method_not_allowed = 115;
inline constexpr int forbidden = 121;
inline constexpr int backend = 201;
inline constexpr int undefined = 999;
}  // namespace kinto_errno

http_response text_response(unsigned status, std::string_view content_type, std::string body, unsigned version,
                            bool keep_alive);
// A status without a body (204): no Content-Type, no Content-Length.
http_response empty_response(unsigned status, unsigned version, bool keep_alive);
http_response json_response(unsigned status, nlohmann::json const& body, unsigned version, bool keep_alive);
http_response error_response(unsigned status, int errno_value, std::string const& message, unsigned version,
                             bool keep_alive);

}  // namespace kp::server
