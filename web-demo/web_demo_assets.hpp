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
// "/webhooks-panel.js", "/channel-info.js"), "/style.css", "/kinto-push.js",
// "/kinto-push-sse.js", "/kinto-push-ws.js"; nullopt for any other path.
std::optional<asset> find_asset(std::string_view path);

}  // namespace kp::web_demo
