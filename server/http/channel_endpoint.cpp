#include "server/http/channel_endpoint.hpp"

#include "store/store_error.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <variant>

namespace kp::server {

namespace http = boost::beast::http;
using ordered_json = nlohmann::ordered_json;

namespace {
constexpr char const* needs_secret = "admin credentials needed: Authorization: Bearer <admin secret>";
constexpr char const* needs_loopback = "admin credentials needed: a loopback client, or a token with the webhooks claim";
}  // namespace

void channel_endpoint::handle(http_request const& request, http_peer const& peer, http_responder respond) const {
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    if (context_.admin == nullptr)
        return respond(
            error_response(503, kinto_errno::backend, "admin access is not configured", version, keep_alive));
    auto const now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    auto identified = context_.admin->identify(request[http::field::authorization], peer.loopback, now);
    if (auto const* verdict = std::get_if<admin_verdict>(&identified)) {
        if (*verdict == admin_verdict::forbidden)
            return respond(error_response(403, kinto_errno::forbidden,
                                          "this token does not allow the admin endpoints (no webhooks claim)", version,
                                          keep_alive));
        auto response = error_response(401, kinto_errno::missing_auth_token,
                                       context_.admin->has_secret() ? needs_secret : needs_loopback, version,
                                       keep_alive);
        response.set(http::field::www_authenticate, "Bearer");
        return respond(std::move(response));
    }
    auto who = std::get<admin_access::caller>(std::move(identified));

    auto parsed = channel_query::parse(request.target());
    if (auto const* message = std::get_if<std::string>(&parsed))
        return respond(error_response(400, kinto_errno::invalid_parameters, *message, version, keep_alive));
    auto query = std::get<channel_query>(std::move(parsed));
    if (query.channel && !admin_access::covers(who, *query.channel))
        return respond(error_response(403, kinto_errno::forbidden, "these credentials do not allow this channel",
                                      version, keep_alive));

    boost::asio::post(context_.blocking, [this, query = std::move(query), who = std::move(who), respond, version,
                                          keep_alive] { respond(answer(query, who, version, keep_alive)); });
}

http_response channel_endpoint::answer(channel_query const& query, admin_access::caller const& who, unsigned version,
                                       bool keep_alive) const {
    try {
        if (query.channel) {
            auto one = describe({*query.channel});
            return text_response(200, "application/json", one.front().dump(), version, keep_alive);
        }
        auto names = context_.hub.history().channels_with_prefix(query.prefix);
        auto subscribed = context_.hub.subscribed_with_prefix(query.prefix);
        names.insert(names.end(), subscribed.begin(), subscribed.end());
        auto picked = channel_query::select(
            std::move(names), [&](std::string const& name) { return admin_access::covers(who, name); }, query.limit);
        ordered_json list = ordered_json::array();
        for (auto& item : describe(picked.channels)) list.push_back(std::move(item));
        ordered_json body = {{"channels", std::move(list)}, {"more", picked.more}};
        return text_response(200, "application/json", body.dump(), version, keep_alive);
    } catch (store::store_error const& e) {
        spdlog::error("channel information: {}", e.what());
        return error_response(503, kinto_errno::backend, "history store unavailable; retry later", version, keep_alive);
    }
}

std::vector<ordered_json> channel_endpoint::describe(std::vector<std::string> const& channels) const {
    auto& hub = context_.hub;
    auto& store = hub.history();
    std::vector<std::uint64_t> cluster;
    if (context_.cluster_subscriber_totals) {
        cluster = context_.cluster_subscriber_totals(channels);
        if (cluster.size() != channels.size()) cluster.clear();   // no answer: null rather than wrong
    }
    std::string const epoch = store.epoch();
    std::vector<ordered_json> out;
    out.reserve(channels.size());
    for (std::size_t i = 0; i < channels.size(); ++i) {
        auto const& channel = channels[i];
        auto const span = store.span(channel);
        std::uint64_t const kept = span.first > 0 && span.last >= span.first ? span.last - span.first + 1 : 0;
        std::int64_t last_timestamp = 0;
        if (kept > 0) {
            auto last = store.read(channel, span.last - 1, 1);
            if (!last.empty() && last.front().offset == span.last) last_timestamp = last.front().timestamp;
        }
        ordered_json subscribers = {{"node", hub.subscriber_count(channel)},
                                    {"cluster", cluster.empty() ? ordered_json(nullptr) : ordered_json(cluster[i])}};
        out.push_back(ordered_json{{"channel", channel},
                                   {"epoch", epoch},
                                   {"first_offset", span.first},
                                   {"last_offset", span.last},
                                   {"last_timestamp", last_timestamp},
                                   {"events", kept},
                                   {"subscribers", std::move(subscribers)}});
    }
    return out;
}

}  // namespace kp::server
