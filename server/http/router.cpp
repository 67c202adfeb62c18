#include "server/http/router.hpp"

#include "channels/channel_name.hpp"
#include "channels/json_depth.hpp"
#include "channels/json_document.hpp"
#include "channels/json_string.hpp"
#include "server/build_info.hpp"
#include "server/telemetry/log_event.hpp"
#include "text/unsigned_number.hpp"
#include "web-demo/web_demo_assets.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

namespace kp::server {

namespace http = boost::beast::http;
using json = nlohmann::json;

namespace {

bool is_json(std::string_view content_type) {
    constexpr std::string_view expected = "application/json";
    if (content_type.size() < expected.size()) return false;
    for (std::size_t i = 0; i < expected.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(content_type[i])) != expected[i]) return false;
    auto rest = content_type.substr(expected.size());
    return rest.empty() || rest.front() == ';' || rest.front() == ' ';
}

// What the log line and the metrics of one POST /v1/events say, filled in as it goes.
struct publish_summary {
    std::size_t events = 0;     // in the body
    std::size_t channels = 0;   // (channel, offset) pairs published
    char const* auth_failure = "";
};

}  // namespace

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
        return publish(request, peer, std::move(respond));
    }
    if (path == "/v1/history") {
        if (!readonly) return method_not_allowed();
        return history(request, std::move(respond));
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
    json out = json::array({"history"});
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

void router::publish(http_request const& request, http_peer const& peer, responder unmeasured) const {
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    // Every answer is counted by status, timed when it is a 202, and logged as one line (never
    // with the credentials).
    auto summary = std::make_shared<publish_summary>();
    auto& metrics = context_.metrics;
    responder respond = [unmeasured = std::move(unmeasured), summary, &metrics, started = std::chrono::steady_clock::now(),
                         remote = peer.address](http_response response) {
        auto const status = response.result_int();
        auto const elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (status == 202) {
            metrics.publish_accepted.inc();   // the common case, without the family's lookup
            metrics.publish_seconds.observe(elapsed);
            metrics.events_received.inc(summary->events);
        } else {
            metrics.publish_requests.with({std::to_string(status)}).inc();
            if (status == 401) metrics.auth_failures.with({summary->auth_failure}).inc();
        }
        log_event_lazily(spdlog::level::info, "publish", [&] {
            return nlohmann::json{{"status", status}, {"events", summary->events}, {"channels", summary->channels},
                                  {"duration_ms", std::round(elapsed * 1e6) / 1e3}, {"remote", remote}};
        });
        unmeasured(std::move(response));
    };
    auto fail = [&](unsigned status, int errno_value, std::string const& message) {
        respond(error_response(status, errno_value, message, version, keep_alive));
    };
    auto refuse = [&](char const* kind, int errno_value, std::string const& message) {
        summary->auth_failure = kind;
        fail(401, errno_value, message);
    };
    auto const signature = request["Kinto-Push-Signature"];
    if (!signature.empty() && context_.publishers.has_secret()) {
        using verdict = auth::signature_verifier::verdict;
        auto const now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
        switch (context_.publishers.check_signature(signature, request.body(), now)) {
        case verdict::allowed: break;
        case verdict::malformed:
            return refuse("publish_signature_malformed", kinto_errno::invalid_auth_token,
                          "Kinto-Push-Signature: expected t=<unix seconds>,v1=<hex>");
        case verdict::expired:
            return refuse("publish_signature_expired", kinto_errno::invalid_auth_token,
                          "Kinto-Push-Signature: timestamp outside the 300 s window (check the clocks)");
        case verdict::invalid:
            return refuse("publish_signature_invalid", kinto_errno::invalid_auth_token,
                          "Kinto-Push-Signature: invalid signature");
        case verdict::replayed:
            return refuse("publish_signature_replayed", kinto_errno::invalid_auth_token,
                          "Kinto-Push-Signature: signature already used (sign each request anew)");
        case verdict::overloaded:
            return fail(503, kinto_errno::backend, "too many signed requests in the window; retry later");
        }
    } else {
        auto authorization = request[http::field::authorization];
        switch (context_.publishers.check(authorization, peer.loopback)) {
        case auth::publisher_auth::verdict::allowed: break;
        case auth::publisher_auth::verdict::missing:
            return refuse("publish_missing_credentials", kinto_errno::missing_auth_token,
                          "publishing needs Authorization: Bearer <publish secret> or a Kinto-Push-Signature");
        case auth::publisher_auth::verdict::invalid:
            return refuse("publish_invalid_credentials", kinto_errno::invalid_auth_token,
                          context_.publishers.has_secret() ? "invalid publish credentials"
                                                           : "no publish secret is configured: only loopback clients may publish");
        }
    }
    if (!is_json(request[http::field::content_type]))
        return fail(415, kinto_errno::invalid_parameters, "Content-Type must be application/json");
    auto const& body = request.body();
    if (!channels::json_depth_within(body))
        return fail(400, kinto_errno::bad_json,
                    "body: JSON nested deeper than " + std::to_string(channels::max_json_depth) + " levels");
    auto parsed = channels::parse_json_document(body);   // keeps Kinto's key order
    if (!parsed) return fail(400, kinto_errno::bad_json, "body: invalid JSON");
    auto& doc = *parsed;
    if (auto events = doc.find("events"); doc.is_object() && events != doc.end() && events->is_array())
        summary->events = events->size();
    else
        summary->events = 1;

    bool const queued = context_.ingest.submit(std::move(doc), [respond, summary, version, keep_alive](channels::publish_result result) {
        switch (result.outcome) {
        case channels::publish_result::status::bad_request:
            return respond(error_response(400, kinto_errno::invalid_parameters, result.error, version, keep_alive));
        case channels::publish_result::status::unavailable:
            spdlog::error("publish: store unavailable: {}", result.error);
            return respond(error_response(503, kinto_errno::backend, "history store unavailable; retry later", version,
                                          keep_alive));
        case channels::publish_result::status::ok: break;
        }
        summary->channels = result.published.size();
        // {"published":[{"channel":…,"offset":…},…]}, written directly: one string, no JSON tree.
        std::string answer = R"({"published":[)";
        answer.reserve(answer.size() + result.published.size() * 64 + 2);
        for (std::size_t i = 0; i < result.published.size(); ++i) {
            auto const& p = result.published[i];
            answer += i == 0 ? R"({"channel":)" : R"(,{"channel":)";
            channels::append_json_string(answer, p.channel);
            answer += R"(,"offset":)";
            answer += std::to_string(p.offset);
            answer += '}';
        }
        answer += "]}";
        respond(text_response(202, "application/json", std::move(answer), version, keep_alive));
    });
    if (!queued) fail(503, kinto_errno::backend, "too many publications in flight; retry later");
}

void router::history(http_request const& request, responder respond) const {
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
    if (!channel) return bad("channel: invalid channel name");
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
    auto found = context_.access.from_upgrade(request[http::field::authorization], param("access_token").value_or(""), now);
    subscriber_identity identity;
    if (found) {
        if (auto* decision = std::get_if<access_decision>(&*found); decision)
            return respond(error_response(401, kinto_errno::invalid_auth_token, "invalid credentials", version, keep_alive));
        identity = std::get<subscriber_identity>(std::move(*found));
    }
    auto executor = context_.blocking.get_executor();
    context_.access.authorize(identity, query.channel, executor, [this, query, respond, executor](access_decision decision) {
        auto const v = query.version;
        auto const k = query.keep_alive;
        switch (decision) {
        case access_decision::allowed:
            // The read may touch the disk: on the blocking pool.
            return boost::asio::post(executor, [this, query, respond] { respond(read_history(query)); });
        case access_decision::unauthorized:
            return respond(error_response(401, kinto_errno::missing_auth_token, "this channel needs credentials", v, k));
        case access_decision::forbidden:
            return respond(error_response(403, kinto_errno::forbidden, "these credentials do not allow this channel", v, k));
        case access_decision::unavailable:
            return respond(error_response(503, kinto_errno::backend, "the authorization service did not answer; retry later", v, k));
        }
    });
}

http_response router::read_history(history_query const& query) const {
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
