// server::cors_policy: CORS fields, preflights and the Origin check, without a socket
// (PROTOCOL.md section 4).

#include "server/http/cors_policy.hpp"

#include <boost/beast/http/verb.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>

using kp::auth::origin_list;
using kp::server::cors_policy;
using kp::server::http_request;
using kp::server::http_response;
namespace http = boost::beast::http;

namespace {

std::optional<origin_list> origins(std::string const& list) {
    auto parsed = origin_list::parse(list);
    REQUIRE(std::holds_alternative<origin_list>(parsed));
    return std::get<origin_list>(parsed);
}

http_request request_of(http::verb verb, std::string const& target, std::string const& origin = {}) {
    http_request request{verb, target, 11};
    request.set(http::field::host, "push.example.com");
    if (!origin.empty()) request.set(http::field::origin, origin);
    return request;
}

http_request preflight_of(std::string const& target, std::string const& origin, std::string const& method,
                          std::string const& headers = {}) {
    auto request = request_of(http::verb::options, target, origin);
    request.set(http::field::access_control_request_method, method);
    if (!headers.empty()) request.set(http::field::access_control_request_headers, headers);
    return request;
}

std::string field(http_response const& response, http::field name) {
    auto it = response.find(name);
    return it == response.end() ? std::string("<none>") : std::string(it->value());
}

bool has_cors_field(http_response const& response) {
    for (auto name : {http::field::access_control_allow_origin, http::field::access_control_allow_methods,
                      http::field::access_control_allow_headers, http::field::access_control_max_age,
                      http::field::access_control_allow_credentials, http::field::access_control_expose_headers})
        if (response.find(name) != response.end()) return true;
    return false;
}

// Applies response_headers() to a plain answer, as the router does.
http_response answered(cors_policy const& policy, http_request const& request, std::string const& path) {
    auto response = kp::server::json_response(200, nlohmann::json::object(), 11, true);
    cors_policy::add_headers(policy.response_headers(request, path), response);
    return response;
}

void check_kinto_403(http_response const& response, std::string const& fragment) {
    CHECK(response.result_int() == 403);
    auto body = nlohmann::json::parse(response.body());
    CHECK(body["code"] == 403);
    CHECK(body["errno"] == 121);
    CHECK(body["error"] == "Forbidden");
    CHECK_THAT(body["message"].get<std::string>(), Catch::Contains(fragment));
    CHECK_FALSE(has_cors_field(response));
}

}  // namespace

TEST_CASE("cors_policy: the CORS paths and the methods each serves", "[cors]") {
    for (auto path : {"/v1", "/v1/", "/v1/history", "/v1/sse", "/kinto-push.js", "/kinto-push-sse.js", "/kinto-push-ws.js",
                      "/kinto-push-positions.js", "/kinto-push-storage.js", "/kinto-push-backoff.js",
                      "/kinto-push-listeners.js", "/kinto-push-sse-request.js", "/kinto-push-event-stream.js",
                      "/v1/channels", "/v1/channels/%2Fbuckets%2Fmain", "/v1/webhooks/abc/deliveries"}) {
        CAPTURE(path);
        CHECK(cors_policy::methods_of(path) == "GET, HEAD");
    }
    CHECK(cors_policy::methods_of("/v1/webhooks") == "GET, HEAD, POST");
    CHECK(cors_policy::methods_of("/v1/webhooks/abc") == "GET, HEAD, PATCH, DELETE");
    CHECK(cors_policy::methods_of("/v1/webhooks/abc/replay") == "POST");
    // Not for browsers on other origins: publishing, the WebSocket endpoints (browsers do not
    // apply CORS to WebSocket), the dashboard, the service endpoints.
    for (auto path : {"/v1/events", "/v1/ws", "/v1/push", "/", "/metrics", "/__heartbeat__", "/__version__",
                      "/__lbheartbeat__", "/v1/history/", "/v1/webhooks/", "/v1/webhooks//replay",
                      "/v1/webhooks/abc/other", "/v2/history", "/v1/historyx", "/kinto-push.js/x",
                      "/kinto-push-ws.js/x", "/kinto-push-positions.js/x", "/kinto-push-nothing.js", "/app.js",
                      "/kinto-push.d.ts", "/package.json"}) {
        CAPTURE(path);
        CHECK(cors_policy::methods_of(path).empty());
    }
    CHECK(cors_policy::origin_checked("/v1/ws"));
    CHECK(cors_policy::origin_checked("/v1/push"));
    CHECK(cors_policy::origin_checked("/v1/sse"));
    CHECK_FALSE(cors_policy::origin_checked("/v1/history"));
    CHECK_FALSE(cors_policy::origin_checked("/v1/ws/"));
}

TEST_CASE("cors_policy without --cors-origins: no CORS field, no preflight", "[cors]") {
    cors_policy const policy(std::nullopt, std::nullopt);
    CHECK_FALSE(policy.enabled());
    auto const request = request_of(http::verb::get, "/v1/history?channel=/buckets/a", "https://app.example.com");
    CHECK(policy.response_headers(request, "/v1/history").empty());
    CHECK_FALSE(has_cors_field(answered(policy, request, "/v1/history")));
    CHECK_FALSE(policy.preflight(preflight_of("/v1/history", "https://app.example.com", "GET"), "/v1/history"));
}

TEST_CASE("cors_policy with listed origins: the origin is echoed, with Vary: Origin", "[cors]") {
    cors_policy const policy(origins("https://app.example.com,http://127.0.0.1:9000"), std::nullopt);
    CHECK(policy.enabled());
    for (auto path : {"/v1/history", "/v1/", "/kinto-push.js", "/v1/sse", "/v1/webhooks/w1"}) {
        CAPTURE(path);
        auto const response = answered(policy, request_of(http::verb::get, path, "http://127.0.0.1:9000"), path);
        CHECK(field(response, http::field::access_control_allow_origin) == "http://127.0.0.1:9000");
        CHECK(field(response, http::field::vary) == "Origin");
        CHECK(response.find(http::field::access_control_allow_credentials) == response.end());
    }
    SECTION("an unlisted origin gets no grant, but Vary: Origin") {
        auto const response =
            answered(policy, request_of(http::verb::get, "/v1/history", "https://evil.example"), "/v1/history");
        CHECK(field(response, http::field::access_control_allow_origin) == "<none>");
        CHECK(field(response, http::field::vary) == "Origin");
    }
    SECTION("a request without Origin (not a browser's CORS request) gets Vary: Origin only") {
        auto const response = answered(policy, request_of(http::verb::get, "/v1/history"), "/v1/history");
        CHECK(field(response, http::field::access_control_allow_origin) == "<none>");
        CHECK(field(response, http::field::vary) == "Origin");
    }
    SECTION("an origin is compared as sent: another case, a default port or a slash is another origin") {
        for (auto origin : {"https://APP.example.com", "https://app.example.com:443", "https://app.example.com/",
                            "http://app.example.com", "null"}) {
            CAPTURE(origin);
            auto const response =
                answered(policy, request_of(http::verb::get, "/v1/history", origin), "/v1/history");
            CHECK(field(response, http::field::access_control_allow_origin) == "<none>");
        }
    }
    SECTION("nothing off the CORS paths") {
        for (auto path : {"/v1/events", "/metrics", "/", "/v1/ws"}) {
            CAPTURE(path);
            auto const response =
                answered(policy, request_of(http::verb::get, path, "https://app.example.com"), path);
            CHECK_FALSE(has_cors_field(response));
            CHECK(field(response, http::field::vary) == "<none>");
        }
    }
    SECTION("a Vary already there is extended") {
        auto response = kp::server::json_response(200, nlohmann::json::object(), 11, true);
        response.set(http::field::vary, "Accept-Encoding");
        cors_policy::add_headers(
            policy.response_headers(request_of(http::verb::get, "/v1/", "https://app.example.com"), "/v1/"), response);
        CHECK(field(response, http::field::vary) == "Accept-Encoding, Origin");
    }
}

TEST_CASE("cors_policy with *: Access-Control-Allow-Origin: * on every answer of a CORS path", "[cors]") {
    cors_policy const policy(origins("*"), std::nullopt);
    for (std::string origin : {"https://anyone.example", "null", ""}) {
        CAPTURE(origin);
        auto const response = answered(policy, request_of(http::verb::get, "/v1/history", origin), "/v1/history");
        CHECK(field(response, http::field::access_control_allow_origin) == "*");
        CHECK(field(response, http::field::vary) == "<none>");   // the same answer for everyone
    }
    CHECK_FALSE(has_cors_field(answered(policy, request_of(http::verb::post, "/v1/events", "https://a.example"), "/v1/events")));
    auto const granted = policy.preflight(preflight_of("/v1/history", "https://anyone.example", "GET", "authorization"),
                                          "/v1/history");
    REQUIRE(granted);
    CHECK(granted->result_int() == 204);
    CHECK(field(*granted, http::field::access_control_allow_origin) == "*");
}

TEST_CASE("cors_policy: a preflight from a listed origin for a served method is granted", "[cors]") {
    cors_policy const policy(origins("https://app.example.com"), std::nullopt);
    auto const answer = policy.preflight(
        preflight_of("/v1/history?channel=x", "https://app.example.com", "GET", "authorization, Last-Event-ID,content-type"),
        "/v1/history");
    REQUIRE(answer);
    CHECK(answer->result_int() == 204);
    CHECK(answer->body().empty());
    CHECK(field(*answer, http::field::content_length) == "<none>");
    CHECK(field(*answer, http::field::content_type) == "<none>");
    CHECK(field(*answer, http::field::access_control_allow_origin) == "https://app.example.com");
    CHECK(field(*answer, http::field::vary) == "Origin");
    CHECK(field(*answer, http::field::access_control_allow_methods) == "GET, HEAD");
    CHECK(field(*answer, http::field::access_control_allow_headers) == "Authorization, Content-Type, Last-Event-ID");
    CHECK(field(*answer, http::field::access_control_max_age) == "600");
    CHECK(answer->keep_alive());

    SECTION("each path's own methods") {
        auto webhook = policy.preflight(preflight_of("/v1/webhooks/w1", "https://app.example.com", "PATCH"),
                                        "/v1/webhooks/w1");
        REQUIRE(webhook);
        CHECK(webhook->result_int() == 204);
        CHECK(field(*webhook, http::field::access_control_allow_methods) == "GET, HEAD, PATCH, DELETE");
        auto replay = policy.preflight(preflight_of("/v1/webhooks/w1/replay", "https://app.example.com", "POST",
                                                    "content-type"),
                                       "/v1/webhooks/w1/replay");
        REQUIRE(replay);
        CHECK(replay->result_int() == 204);
        auto head = policy.preflight(preflight_of("/kinto-push.js", "https://app.example.com", "HEAD"), "/kinto-push.js");
        REQUIRE(head);
        CHECK(head->result_int() == 204);
    }
    SECTION("no Access-Control-Request-Headers: granted too") {
        auto plain = policy.preflight(preflight_of("/v1/", "https://app.example.com", "GET"), "/v1/");
        REQUIRE(plain);
        CHECK(plain->result_int() == 204);
    }
}

TEST_CASE("cors_policy: preflights that are refused, with the reason and no CORS field", "[cors]") {
    cors_policy const policy(origins("https://app.example.com"), std::nullopt);
    SECTION("an unlisted origin") {
        auto answer = policy.preflight(preflight_of("/v1/history", "https://evil.example", "GET"), "/v1/history");
        REQUIRE(answer);
        check_kinto_403(*answer, "origin https://evil.example is not in --cors-origins");
    }
    SECTION("a method the path does not serve") {
        for (auto [path, method] : {std::pair{"/v1/history", "POST"}, std::pair{"/v1/history", "DELETE"},
                                    std::pair{"/v1/webhooks", "DELETE"}, std::pair{"/v1/webhooks/w1/replay", "GET"},
                                    std::pair{"/v1/history", "get"}, std::pair{"/v1/webhooks/w1", "patch"},
                                    std::pair{"/v1/history", "GET, POST"}}) {
            CAPTURE(path, method);
            auto answer = policy.preflight(preflight_of(path, "https://app.example.com", method), path);
            REQUIRE(answer);
            check_kinto_403(*answer, std::string(path) + " does not serve " + method);
        }
    }
    SECTION("a header we do not allow") {
        auto answer = policy.preflight(preflight_of("/v1/history", "https://app.example.com", "GET",
                                                    "authorization, x-custom-thing"),
                                       "/v1/history");
        REQUIRE(answer);
        check_kinto_403(*answer, "header x-custom-thing is not allowed");
    }
    SECTION("bytes that are not printable ASCII are not echoed") {
        auto answer = policy.preflight(preflight_of("/v1/history", "https://\xff\x01.example", "GET"), "/v1/history");
        REQUIRE(answer);
        check_kinto_403(*answer, "origin https://??.example is not in");
    }
}

TEST_CASE("cors_policy: what is not a preflight is left to the router", "[cors]") {
    cors_policy const policy(origins("https://app.example.com"), std::nullopt);
    // No Access-Control-Request-Method, no Origin, not OPTIONS, not a CORS path.
    CHECK_FALSE(policy.preflight(request_of(http::verb::options, "/v1/history", "https://app.example.com"), "/v1/history"));
    auto no_origin = preflight_of("/v1/history", "", "GET");
    CHECK_FALSE(policy.preflight(no_origin, "/v1/history"));
    auto get = preflight_of("/v1/history", "https://app.example.com", "GET");
    get.method(http::verb::get);
    CHECK_FALSE(policy.preflight(get, "/v1/history"));
    CHECK_FALSE(policy.preflight(preflight_of("/v1/events", "https://app.example.com", "POST"), "/v1/events"));
    CHECK_FALSE(policy.preflight(preflight_of("/metrics", "https://app.example.com", "GET"), "/metrics"));
}

TEST_CASE("cors_policy: --allowed-origins checks the Origin of /v1/ws, /v1/push and /v1/sse", "[cors]") {
    cors_policy const policy(std::nullopt, origins("https://app.example.com"));
    CHECK(policy.checks_origins());
    CHECK_FALSE(policy.enabled());   // independent of --cors-origins
    for (auto path : {"/v1/ws", "/v1/push", "/v1/sse"}) {
        CAPTURE(path);
        auto const listed = request_of(http::verb::get, path, "https://app.example.com");
        CHECK(policy.origin_allowed(listed));
        CHECK_FALSE(policy.origin_refusal(listed, path));
        auto const none = request_of(http::verb::get, path);   // not a browser
        CHECK(policy.origin_allowed(none));
        CHECK_FALSE(policy.origin_refusal(none, path));
        auto const other = request_of(http::verb::get, path, "https://evil.example");
        CHECK_FALSE(policy.origin_allowed(other));
        auto refusal = policy.origin_refusal(other, path);
        REQUIRE(refusal);
        check_kinto_403(*refusal, "origin https://evil.example may not connect to " + std::string(path));
        CHECK(refusal->keep_alive());
    }
    // Other paths are not checked (CORS decides what a page may read there).
    CHECK_FALSE(policy.origin_refusal(request_of(http::verb::get, "/v1/history", "https://evil.example"), "/v1/history"));
    CHECK_FALSE(policy.origin_refusal(request_of(http::verb::post, "/v1/events", "https://evil.example"), "/v1/events"));

    SECTION("* and unset check nothing") {
        for (auto const& p : {cors_policy(std::nullopt, origins("*")), cors_policy(std::nullopt, std::nullopt)}) {
            CHECK_FALSE(p.checks_origins());
            auto const other = request_of(http::verb::get, "/v1/ws", "https://evil.example");
            CHECK(p.origin_allowed(other));
            CHECK_FALSE(p.origin_refusal(other, "/v1/ws"));
        }
    }
}

TEST_CASE("cors_policy::printable", "[cors]") {
    CHECK(cors_policy::printable("https://a.example") == "https://a.example");
    CHECK(cors_policy::printable("a\r\nb\x7f\xc3\xa9") == "a??b???");
    CHECK(cors_policy::printable(std::string(200, 'x'), 10) == "xxxxxxxxxx...");
}
