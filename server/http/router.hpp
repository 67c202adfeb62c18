#pragma once
// Answers every plain HTTP request (everything but the WebSocket upgrade): publishing, the
// history, the service endpoints and the web demo.

#include "server/http/http_responses.hpp"
#include "server/server_context.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace kp::server {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;

// Who sent a request: the address (for the logs) and whether it is 127.0.0.0/8 or ::1.
struct http_peer {
    std::string address;
    bool loopback = false;
};

class router {
public:
    // Receives the response, on any thread (the caller moves it to its own).
    using responder = std::function<void(http_response)>;

    // What an address serves: everything (--listen), or only /metrics and the Dockerflow
    // endpoints (--metrics-listen).
    enum class scope { everything, metrics_only };

    explicit router(server_context& context, scope what = scope::everything) : context_(context), scope_(what) {}

    // False on the metrics address: WebSocket upgrades are not taken there.
    bool serves_websocket() const { return scope_ == scope::everything; }

    // Answers at once, or later from the ingest thread or the blocking pool (publishing,
    // history, heartbeat).
    void handle(http_request const& request, http_peer const& peer, responder respond) const;

private:
    void publish(http_request const& request, http_peer const& peer, responder respond) const;
    // GET /v1/history: parameters, then authorization, then the read (on the blocking pool).
    struct history_query {
        unsigned version = 11;
        bool keep_alive = true;
        std::string channel;
        std::uint64_t since = 0;
        std::size_t limit = 100;
        std::optional<std::string> epoch;
    };
    void history(http_request const& request, responder respond) const;
    http_response read_history(history_query const& query) const;
    http_response info(http_request const& request) const;
    nlohmann::json capabilities() const;

    server_context& context_;
    scope scope_;
};

}  // namespace kp::server
