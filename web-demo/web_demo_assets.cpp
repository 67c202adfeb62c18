#include "web-demo/web_demo_assets.hpp"

namespace kp::web_demo {

namespace embedded {
// Defined in the sources cmake/embed_file.cmake generates.
std::string_view index_html();
std::string_view app_js();
std::string_view style_css();
std::string_view dom_js();
std::string_view event_feed_js();
std::string_view poller_js();
std::string_view admin_api_js();
std::string_view webhooks_panel_js();
std::string_view channel_info_js();
std::string_view history_api_js();
std::string_view recent_history_js();
std::string_view replay_notice_js();
std::string_view last_close_js();
std::string_view feed_filters_js();
std::string_view history_view_js();
std::string_view kinto_push_js();
std::string_view kinto_push_sse_js();
std::string_view kinto_push_ws_js();
std::string_view kinto_push_backoff_js();
std::string_view kinto_push_event_stream_js();
std::string_view kinto_push_listeners_js();
std::string_view kinto_push_positions_js();
std::string_view kinto_push_sse_request_js();
std::string_view kinto_push_storage_js();
}  // namespace embedded

namespace {

constexpr std::string_view html = "text/html; charset=utf-8";
constexpr std::string_view javascript = "text/javascript; charset=utf-8";
constexpr std::string_view css = "text/css; charset=utf-8";

struct entry {
    std::string_view path;
    std::string_view content_type;
    std::string_view (*body)();
};

constexpr entry assets[] = {
    {"/", html, embedded::index_html},
    {"/index.html", html, embedded::index_html},
    {"/app.js", javascript, embedded::app_js},
    {"/style.css", css, embedded::style_css},
    // The modules /app.js imports.
    {"/dom.js", javascript, embedded::dom_js},
    {"/event-feed.js", javascript, embedded::event_feed_js},
    {"/poller.js", javascript, embedded::poller_js},
    {"/admin-api.js", javascript, embedded::admin_api_js},
    {"/webhooks-panel.js", javascript, embedded::webhooks_panel_js},
    {"/channel-info.js", javascript, embedded::channel_info_js},
    {"/history-api.js", javascript, embedded::history_api_js},
    {"/recent-history.js", javascript, embedded::recent_history_js},
    {"/replay-notice.js", javascript, embedded::replay_notice_js},
    {"/last-close.js", javascript, embedded::last_close_js},
    {"/feed-filters.js", javascript, embedded::feed_filters_js},
    {"/history-view.js", javascript, embedded::history_view_js},
};

// The JavaScript client: /kinto-push.js and the modules it imports (as ./kinto-push-….js), its
// transports and what they share.
constexpr entry client_modules[] = {
    {"/kinto-push.js", javascript, embedded::kinto_push_js},
    {"/kinto-push-sse.js", javascript, embedded::kinto_push_sse_js},
    {"/kinto-push-ws.js", javascript, embedded::kinto_push_ws_js},
    {"/kinto-push-backoff.js", javascript, embedded::kinto_push_backoff_js},
    {"/kinto-push-event-stream.js", javascript, embedded::kinto_push_event_stream_js},
    {"/kinto-push-listeners.js", javascript, embedded::kinto_push_listeners_js},
    {"/kinto-push-positions.js", javascript, embedded::kinto_push_positions_js},
    {"/kinto-push-sse-request.js", javascript, embedded::kinto_push_sse_request_js},
    {"/kinto-push-storage.js", javascript, embedded::kinto_push_storage_js},
};

}  // namespace

std::optional<asset> find_asset(std::string_view path) {
    for (auto const& e : assets)
        if (e.path == path) return asset{e.content_type, e.body()};
    for (auto const& e : client_modules)
        if (e.path == path) return asset{e.content_type, e.body()};
    return std::nullopt;
}

bool is_client_module(std::string_view path) {
    for (auto const& e : client_modules)
        if (e.path == path) return true;
    return false;
}

}  // namespace kp::web_demo
