#include "server/http/publish_endpoint.hpp"

#include "channels/json_depth.hpp"
#include "channels/json_document.hpp"
#include "channels/json_string.hpp"
#include "server/telemetry/log_event.hpp"

#include <boost/beast/http/field.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <string_view>

namespace kp::server {

namespace http = boost::beast::http;

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

void publish_endpoint::handle(http_request const& request, http_peer const& peer, http_responder unmeasured) const {
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    // Every answer is counted by status, timed when it is a 202, and logged as one line (never
    // with the credentials).
    auto summary = std::make_shared<publish_summary>();
    auto& metrics = context_.metrics;
    http_responder respond = [unmeasured = std::move(unmeasured), summary, &metrics,
                              started = std::chrono::steady_clock::now(), remote = peer.address](http_response response) {
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

}  // namespace kp::server
