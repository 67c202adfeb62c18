#pragma once
// The dashboard's files and the JavaScript client, embedded at build time (see
// web-demo/CMakeLists.txt) and served by the router.

#include <optional>
#include <string_view>

namespace kp::web_demo {

struct asset {
    std::string_view content_type;
    std::string_view body;
};

// The embedded file served at `path`: "/" and "/index.html" (the dashboard), "/app.js" and the
// modules it imports ("/dom.js", "/event-feed.js", "/poller.js", "/admin-api.js",
// "/webhooks-panel.js", "/channel-info.js", …), "/style.css", and the JavaScript client's
// modules (is_client_module); nullopt for any other path.
std::optional<asset> find_asset(std::string_view path);

// Whether `path` is one of the JavaScript client's modules, which pages on other origins may
// import: "/kinto-push.js" and those it imports beside it ("/kinto-push-ws.js",
// "/kinto-push-sse.js", "/kinto-push-positions.js", "/kinto-push-storage.js",
// "/kinto-push-backoff.js", "/kinto-push-listeners.js", "/kinto-push-sse-request.js",
// "/kinto-push-event-stream.js").
bool is_client_module(std::string_view path);

}  // namespace kp::web_demo
