#pragma once
// Browsers on other origins (PROTOCOL.md section 4), without a socket: which answers carry CORS
// fields (--cors-origins), how an OPTIONS preflight is answered, and whose Origin may open a
// WebSocket or an SSE stream (--allowed-origins).
//
// CORS paths and the methods they serve to other origins (methods_of):
//   /v1, /v1/, /v1/history, /v1/sse, /kinto-push.js and the modules it imports
//   (web_demo::is_client_module), /v1/channels, /v1/channels/…  GET, HEAD
//   /v1/webhooks                  GET, HEAD, POST
//   /v1/webhooks/{id}             GET, HEAD, PATCH, DELETE
//   /v1/webhooks/{id}/deliveries  GET, HEAD
//   /v1/webhooks/{id}/replay      POST
// A new endpoint that browsers on other origins may call gets a line in methods_of(); the
// router then adds the fields to every answer on it and answers its preflights.
//
// With --cors-origins, every answer on a CORS path (errors too, so that a page can read them)
// carries `Access-Control-Allow-Origin`: `*` when the list is `*`; otherwise the request's
// Origin when it is listed, and `Vary: Origin` on every answer of the path (listed origin or
// not, Origin or not) so that a cache never hands one origin's answer to another. An unlisted
// Origin is still answered, without the grant: the browser then keeps the answer from the page.
// No `Access-Control-Allow-Credentials`: kinto-push reads no cookies; pages send credentials in
// `Authorization` (or `?access_token=`), which the preflight allows. No
// `Access-Control-Expose-Headers`: no answer on these paths has a field a page needs beyond the
// CORS-safelisted ones (Content-Type, Cache-Control).
//
// A preflight is an OPTIONS request on a CORS path with `Origin` and
// `Access-Control-Request-Method`. Granted (204, with Allow-Origin, Allow-Methods: the path's,
// Allow-Headers: Authorization, Content-Type, Last-Event-ID, Max-Age: 600) when the origin is
// listed, the method is one the path serves and every requested header is one of those three.
// Otherwise refused: 403 in Kinto's error shape (errno 121) saying which of the three failed,
// without any CORS field (the browser reports a CORS failure; curl shows the reason). Any other
// OPTIONS, and everything without --cors-origins, is answered as before (405).
//
// --allowed-origins: a request on /v1/ws, /v1/push or /v1/sse (origin_checked) that carries
// an Origin not in the list gets 403 (errno 121) before any upgrade or stream starts; a request
// without Origin (not a browser) passes, and so does everything when the list is `*` or unset.
// http_session applies it to every request on those paths before dispatching them.
//
// Thread-safe once built (const only).

#include "auth/origin_list.hpp"
#include "server/http/http_exchange.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kp::server {

class cors_policy {
public:
    using header_list = std::vector<std::pair<boost::beast::http::field, std::string>>;

    // The headers a preflight may ask for, and how long a browser may keep a granted one.
    static constexpr std::string_view allowed_headers = "Authorization, Content-Type, Last-Event-ID";
    static constexpr std::string_view max_age_seconds = "600";

    cors_policy(std::optional<auth::origin_list> cors_origins, std::optional<auth::origin_list> allowed_origins);

    // --cors-origins is set.
    bool enabled() const { return cors_.has_value(); }
    // --allowed-origins is set and is not `*`: some Origin may be refused.
    bool checks_origins() const { return allowed_ && !allowed_->any(); }
    // "GET, HEAD", …: what `path` serves to other origins; empty when it is not a CORS path.
    static std::string_view methods_of(std::string_view path);
    // --allowed-origins covers `path`: /v1/ws, /v1/push, /v1/sse.
    static bool origin_checked(std::string_view path);

    // The fields to add to any answer to `request` on `path` (none without --cors-origins or
    // off the CORS paths). For an endpoint that writes its own head (a stream), with
    // add_headers(); the router adds them to every answer it makes.
    header_list response_headers(http_request const& request, std::string_view path) const;
    // Adds `headers` to `into` (a Vary already there is extended, not replaced).
    static void add_headers(header_list const& headers, boost::beast::http::fields& into);

    // The answer to a CORS preflight (204 or 403), or nothing when `request` is not one (the
    // caller answers it as it would without CORS).
    std::optional<http_response> preflight(http_request const& request, std::string_view path) const;

    // --allowed-origins: false only when the list is set, not `*`, and `request` carries an
    // Origin that is not in it. For an endpoint that checks for itself (the SSE endpoint may
    // call it; http_session already applies origin_refusal to /v1/sse by path).
    bool origin_allowed(http_request const& request) const;
    // The 403 for a request on an origin-checked path whose Origin is not allowed, or nothing.
    std::optional<http_response> origin_refusal(http_request const& request, std::string_view path) const;

    // `text` cut to `max` bytes, every byte outside printable ASCII as '?': a client's field
    // value fit for a JSON message or a log line.
    static std::string printable(std::string_view text, std::size_t max = 128);

private:
    std::optional<auth::origin_list> cors_;
    std::optional<auth::origin_list> allowed_;
};

}  // namespace kp::server
