#include "server/http/history_endpoint.hpp"

#include "channels/channel_name.hpp"
#include "text/unsigned_number.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <variant>
#include <vector>

namespace kp::server {

namespace http = boost::beast::http;
using json = nlohmann::json;

void history_endpoint::handle(http_request const& request, http_responder respond) const {
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    auto parsed = boost::urls::parse_origin_form(request.target());
    auto params = parsed->params();
    auto param = [&](char const* key) -> std::optional<std::string> {
        auto it = params.find(key);
        if (it == params.end()) return std::nullopt;
        return std::string((*it).value);
    };
    auto bad = [&](std::string const& message) {
        respond(error_response(400, kinto_errno::invalid_parameters, message, version, keep_alive));
    };

    history_query query;
    query.version = version;
    query.keep_alive = keep_alive;
    auto channel_text = param("channel");
    if (!channel_text) return bad("channel: is required");
    auto channel = channels::channel_name::parse(*channel_text);
    if (!channel) return bad("channel: not a channel name (" + std::string(channels::channel_name::grammar) + ")");
    query.channel = channel->str();
    if (auto since_text = param("since")) {
        auto value = text::parse_unsigned(*since_text);
        if (!value) return bad("since: must be a non-negative integer");
        query.since = *value;
    }
    if (auto limit_text = param("limit")) {
        auto value = text::parse_unsigned(*limit_text);
        if (!value || *value == 0) return bad("limit: must be a positive integer");
        query.limit = static_cast<std::size_t>(std::min<std::uint64_t>(*value, 1000));
    }
    query.epoch = param("epoch");

    // The same authorization as subscribing: Authorization header or ?access_token=.
    auto const now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    auto executor = context_.blocking.get_executor();
    context_.access.from_upgrade(
        request[http::field::authorization], param("access_token").value_or(""), now, executor,
        // `respond` is moved along, never copied: it holds the HTTP session, which must not
        // find its last owner in a copy destroyed on the blocking pool (http_session.cpp).
        [this, query = std::move(query), respond = std::move(respond), executor](
            subscriber_access::upgrade_found found) mutable {
            subscriber_identity identity;
            if (found) {
                if (auto const* refusal = std::get_if<session::credential_refusal>(&*found)) {
                    spdlog::debug("history: credentials refused: {}", refusal->message());
                    return respond(error_response(401, kinto_errno::invalid_auth_token, refusal->message(),
                                                  query.version, query.keep_alive));
                }
                identity = std::get<subscriber_identity>(std::move(*found));
            }
            authorize(identity, query, executor, std::move(respond));
        });
}

void history_endpoint::authorize(subscriber_identity const& identity, history_query const& query,
                                 boost::asio::any_io_executor executor, http_responder respond) const {
    context_.access.authorize(identity, query.channel, executor,
                              [this, query, respond = std::move(respond), executor](access_decision decision) mutable {
        auto const v = query.version;
        auto const k = query.keep_alive;
        switch (decision) {
        case access_decision::allowed:
            // The read may touch the disk: on the blocking pool.
            return boost::asio::post(executor, [this, query, respond = std::move(respond)]() mutable {
                respond(read(query));
            });
        case access_decision::unauthorized:
            return respond(error_response(401, kinto_errno::missing_auth_token, "this channel needs credentials", v, k));
        case access_decision::forbidden:
            return respond(error_response(403, kinto_errno::forbidden, "these credentials do not allow this channel", v, k));
        case access_decision::unavailable:
            return respond(error_response(503, kinto_errno::backend, "the authorization service did not answer; retry later", v, k));
        }
    });
}

http_response history_endpoint::read(history_query const& query) const {
    auto const version = query.version;
    auto const keep_alive = query.keep_alive;
    auto const limit = query.limit;
    auto& hub = context_.hub;
    // The resume rule of subscriptions, without their replay limit.
    auto const plan = hub.plan_history(query.channel, query.since, query.epoch);
    std::vector<channels::message_ptr> events;
    bool more = false;
    if (plan.replay) {
        // One extra event tells whether the limit cut the list.
        events = hub.read(query.channel, plan.replay_after, limit + 1);
        more = events.size() > limit;
        if (more) events.pop_back();
    }
    // The events are spliced in as the frames WebSocket clients get, without a re-parse.
    json head = {{"channel", query.channel}, {"epoch", plan.epoch}, {"offset", plan.offset},
                 {"recovered", plan.recovered}, {"more", more}};
    std::string text = head.dump();
    text.pop_back();
    text += ",\"events\":[";
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (i) text += ',';
        text += events[i]->frame();
    }
    text += "]}";
    return text_response(200, "application/json", std::move(text), version, keep_alive);
}

}  // namespace kp::server
