#include "server/sse/sse_text.hpp"

#include "server/http/http_responses.hpp"
#include "session/close_code.hpp"

namespace kp::server::sse_text {

using json = nlohmann::ordered_json;

session::frame_ptr const& stream_start() {
    static auto const text = std::make_shared<std::string const>("retry: 2000\n\n");
    return text;
}

session::frame_ptr const& ping() {
    static auto const text = std::make_shared<std::string const>(": ping\n\n");
    return text;
}

std::string subscribed(json const& reply) {
    json data{{"channel", reply.at("channel")},
              {"epoch", reply.at("epoch")},
              {"offset", reply.at("offset")},
              {"recovered", reply.at("recovered")}};
    return "event: subscribed\ndata: " + data.dump() + "\n\n";
}

std::string error(std::string_view code, std::string_view message) {
    // dump() escapes line breaks: the data stays on one line.
    return "event: error\ndata: " + json{{"code", code}, {"message", message}}.dump() + "\n\n";
}

std::string revoked(std::string_view channel) {
    json data{{"code", "forbidden"}, {"channel", channel}, {"message", "these credentials no longer allow this channel"}};
    return "event: error\ndata: " + data.dump() + "\n\n";
}

char const* error_code(std::uint16_t close_code) {
    switch (close_code) {
    case session::close_code::too_slow: return "too_slow";
    case session::close_code::unauthorized: return "unauthorized";
    case session::close_code::going_away: return "shutdown";
    default: return "internal";
    }
}

unsigned refusal_status(std::string_view code) {
    if (code == "unauthorized") return 401;
    if (code == "forbidden") return 403;
    if (code == "unavailable") return 503;
    if (code == "bad_request" || code == "too_many_subscriptions") return 400;
    return 500;
}

int refusal_errno(std::string_view code) {
    if (code == "unauthorized") return kinto_errno::missing_auth_token;
    if (code == "forbidden") return kinto_errno::forbidden;
    if (code == "unavailable") return kinto_errno::backend;
    if (code == "bad_request" || code == "too_many_subscriptions") return kinto_errno::invalid_parameters;
    return kinto_errno::undefined;
}

}  // namespace kp::server::sse_text
