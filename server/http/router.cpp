#include "server/http/router.hpp"

#include "server/build_info.hpp"
#include "web-demo/web_demo_assets.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

namespace kp::server {

namespace http = boost::beast::http;
using json = nlohmann::json;

void router::handle(http_request const& request, http_peer const& peer, responder respond) const {
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    auto parsed = boost::urls::parse_origin_form(request.target());
    if (!parsed) return respond(error_response(400, kinto_errno::invalid_parameters, "invalid request target", version, false));
    std::string const path = parsed->path();
    auto const verb = request.method();
    bool const readonly = verb == http::verb::get || verb == http::verb::head;

    bool const service_path = path == "/metrics" || path == "/__heartbeat__" || path == "/__lbheartbeat__" ||
                              path == "/__version__";
    bool const metrics_elsewhere = path == "/metrics" && scope_ == scope::everything && context_.config.metrics_host;
    if ((scope_ == scope::metrics_only && !service_path) || metrics_elsewhere)
        return respond(error_response(404, kinto_errno::missing_resource, "no such endpoint: " + path, version, keep_alive));

    // --cors-origins (cors_policy): preflights answered here; every other answer on a CORS path,
    // made now or later on another thread, carries the CORS fields.
    if (context_.cors.enabled() && scope_ == scope::everything) {
        if (auto answer = context_.cors.preflight(request, path)) return respond(std::move(*answer));
        if (auto fields = context_.cors.response_headers(request, path); !fields.empty()) {
            respond = [inner = std::move(respond), fields = std::move(fields)](http_response response) {
                cors_policy::add_headers(fields, response);
                inner(std::move(response));
            };
        }
    }

    auto const method_not_allowed = [&] {
        respond(error_response(405, kinto_errno::method_not_allowed, "method not allowed", version, keep_alive));
    };
    auto only = [&](bool allowed, auto&& answer) {
        if (!allowed) return method_not_allowed();
        respond(answer());
    };
    // Work that may wait on the disk runs on the blocking pool, not on the shard.
    auto blocking = [&](auto&& answer) {
        if (!readonly) return method_not_allowed();
        boost::asio::post(context_.blocking, [answer = std::move(answer), respond]() mutable { respond(answer()); });
    };

    if (path == "/v1/events") {
        if (verb != http::verb::post) return method_not_allowed();
        return publish_.handle(request, peer, std::move(respond));
    }
    if (path == "/v1/history") {
        if (!readonly) return method_not_allowed();
        return history_.handle(request, std::move(respond));
    }
    if (path == "/v1/channels" || path.starts_with("/v1/channels/")) {
        if (!readonly) return method_not_allowed();
        return channels_.handle(request, peer, std::move(respond));
    }
    if (path == "/v1/sse") {
        // GET is taken by the HTTP session before the router (sse_session); HEAD says what it is.
        return only(readonly, [&] {
            return error_response(400, kinto_errno::invalid_parameters,
                                  "this endpoint streams Server-Sent Events: send a GET", version, keep_alive);
        });
    }
    if (path == "/v1" || path == "/v1/") return only(readonly, [&] { return info(request); });
    if (path == "/v1/ws" || (path == "/v1/push" && context_.broadcasts))
        return only(readonly, [&] {
            return error_response(426, kinto_errno::invalid_parameters,
                                  "this endpoint speaks WebSocket: send an Upgrade request", version, keep_alive);
        });
    if (path == "/__heartbeat__")
        return blocking([this, version, keep_alive] {
            bool ok = context_.hub.history().healthy();
            return json_response(ok ? 200 : 503, json{{"store", ok ? "ok" : "unavailable"}}, version, keep_alive);
        });
    if (path == "/metrics")
        return only(readonly, [&] {
            return text_response(200, metrics::registry::content_type, context_.metrics.registry().render(), version,
                                 keep_alive);
        });
    if (path == "/__lbheartbeat__")
        return only(readonly, [&] { return json_response(200, json::object(), version, keep_alive); });
    if (path == "/__version__")
        return only(readonly, [&] {
            return json_response(200,
                                 json{{"source", "https://github.com/kinto-push/kinto-push"},
                                      {"version", build_info::version()},
                                      {"commit", build_info::commit()},
                                      {"build", build_info::build_type()}},
                                 version, keep_alive);
        });
    // The dashboard and the JavaScript client (text_response sets Cache-Control: no-cache).
    if (auto asset = web_demo::find_asset(path))
        return only(readonly, [&] {
            return text_response(200, asset->content_type, std::string(asset->body), version, keep_alive);
        });
    respond(error_response(404, kinto_errno::missing_resource, "no such endpoint: " + path, version, keep_alive));
}

json router::capabilities() const {
    json out = json::array({"history", "channels"});
    if (context_.access.has_public_channels()) out.push_back("public-channels");
    if (context_.access.has_jwt()) out.push_back("jwt");
    if (context_.access.has_kinto()) out.push_back("kinto-auth");
    if (context_.publishers.has_secret()) out.push_back("signed-publishing");
    if (context_.tls) out.push_back("tls");
    if (context_.broadcasts) out.push_back("broadcast");
    return out;
}

http_response router::info(http_request const& request) const {
    auto& store = context_.hub.history();
    json body = {{"server", "kinto-push"},
                 {"version", KINTO_PUSH_VERSION},
                 {"store", store.kind()},
                 {"epoch", store.epoch()},
                 {"capabilities", capabilities()}};
    return json_response(200, body, request.version(), request.keep_alive());
}

}  // namespace kp::server
