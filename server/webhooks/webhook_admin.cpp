#include "server/webhooks/webhook_admin.hpp"

#include "server/http/http_responses.hpp"
#include "server/telemetry/log_event.hpp"
#include "webhooks/address_guard.hpp"
#include "webhooks/target_url.hpp"
#include "webhooks/webhook_signature.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>

namespace kp::server {

using json = nlohmann::ordered_json;

namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

admin_answer bad(std::string message) {
    return admin_answer::error(400, kinto_errno::invalid_parameters, std::move(message));
}

admin_answer bad(webhooks::request_error const& e) { return bad(e.field + ": " + e.message); }

webhooks::request_limits limits_of(server_config const& config) {
    webhooks::request_limits limits;
    limits.max_channels = config.max_subscriptions;
    return limits;
}

}  // namespace

admin_answer admin_answer::error(unsigned status, int errno_value, std::string message) {
    admin_answer a;
    a.status = status;
    a.error_errno = errno_value;
    a.body = {{"message", std::move(message)}};
    return a;
}

std::optional<std::string> webhook_admin::refused_target(std::string const& url) const {
    auto parsed = webhooks::target_url::parse(url);
    if (auto const* why = std::get_if<std::string>(&parsed)) return *why;
    if (context_.config.webhook_allow_private) return std::nullopt;
    auto const& target = std::get<webhooks::target_url>(parsed);
    // Every address the host resolves to must be public (checked again at each connection).
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto results = resolver.resolve(target.host, std::to_string(target.port), ec);
    if (ec || results.empty()) return "host " + target.host + " does not resolve (" + ec.message() + ")";
    for (auto const& entry : results) {
        auto const address = entry.endpoint().address();
        if (auto kind = webhooks::refused_address(address))
            return "host " + target.host + " resolves to " + address.to_string() + " (" + *kind +
                   "), refused unless --webhook-allow-private is set";
    }
    return std::nullopt;
}

std::variant<webhooks::cursor_position, std::string> webhook_admin::start_of(
    std::string const& channel, std::optional<webhooks::since_spec> const& since) {
    auto& history = context_.hub.history();
    auto const epoch = history.epoch();
    auto const span = history.span(channel);
    auto timestamp_at = [&](std::uint64_t offset) -> std::int64_t {
        if (offset == 0) return 0;
        auto events = history.read(channel, offset - 1, 1);
        return !events.empty() && events.front().offset == offset ? events.front().timestamp : 0;
    };
    if (since && since->timestamp) {
        auto const position = history.position_after(channel, *since->timestamp);
        return webhooks::cursor_position{epoch, position.after, *since->timestamp};
    }
    if (since) {
        if (auto it = since->positions.find(channel); it != since->positions.end()) {
            if (it->second.epoch != epoch)
                return "since: " + channel + ": epoch " + it->second.epoch + " is not the history's (" + epoch +
                       "); give a timestamp instead";
            if (it->second.offset > span.last)
                return "since: " + channel + ": offset " + std::to_string(it->second.offset) +
                       " is beyond the channel's last (" + std::to_string(span.last) + ")";
            return webhooks::cursor_position{epoch, it->second.offset, timestamp_at(it->second.offset)};
        }
    }
    return webhooks::cursor_position{epoch, span.last, timestamp_at(span.last)};   // from now on
}

admin_answer webhook_admin::create(admin_access::caller const& caller, nlohmann::json const& body) {
    auto parsed = webhooks::webhook_request::parse_creation(body, limits_of(context_.config));
    if (auto const* e = std::get_if<webhooks::request_error>(&parsed)) return bad(*e);
    auto& request = std::get<webhooks::creation_request>(parsed);
    if (!admin_access::covers_all(caller, request.channels))
        return admin_answer::error(403, kinto_errno::forbidden, "these credentials do not allow every channel of the webhook");
    if (auto why = refused_target(request.url)) return bad("url: " + *why);

    webhooks::webhook_definition definition;
    definition.id = webhooks::webhook_definition::new_id();
    definition.url = request.url;
    definition.channels = request.channels;
    definition.description = request.description;
    definition.max_batch = request.max_batch;
    definition.secret = request.secret ? *request.secret : webhooks::generate_secret();
    definition.created_ms = now_ms();
    store::stored_webhook stored{definition.id, definition.to_store_text(), {}};
    for (auto const& channel : request.channels) {
        auto start = start_of(channel, request.since);
        if (auto const* why = std::get_if<std::string>(&start)) return bad(*why);
        auto const& at = std::get<webhooks::cursor_position>(start);
        stored.positions.push_back({channel, at.epoch, at.offset, at.timestamp});
    }
    if (!context_.store.create(stored)) return admin_answer::error(409, kinto_errno::invalid_parameters, "id taken; retry");
    log_event(spdlog::level::info, "webhook.created",
              {{"webhook", definition.id}, {"url", definition.url}, {"channels", definition.channels}});
    service_.changed(definition.id);
    admin_answer answer;
    answer.status = 201;
    answer.body = describe(definition, stored.positions);
    answer.body["secret"] = definition.secret;   // shown only here
    return answer;
}

std::variant<store::stored_webhook, admin_answer> webhook_admin::visible(admin_access::caller const& caller,
                                                                         std::string const& id) {
    auto stored = context_.store.load(id);
    auto definition = stored ? webhooks::webhook_definition::from_store_text(stored->definition) : std::nullopt;
    if (!definition) return admin_answer::error(404, kinto_errno::missing_resource, "no webhook " + id);
    if (!admin_access::covers_all(caller, definition->channels))
        return admin_answer::error(403, kinto_errno::forbidden, "these credentials do not allow every channel of the webhook");
    return *stored;
}

nlohmann::ordered_json webhook_admin::describe(webhooks::webhook_definition const& definition,
                                              std::vector<store::webhook_position> const& positions) {
    json out = definition.public_json();
    auto const progress = context_.board.progress(definition.id);
    bool const here = progress.has_value() && service_.delivers(definition.id);
    out["status"] = !definition.enabled ? "disabled" : here && progress->retrying() ? "retrying" : "active";
    auto& history = context_.hub.history();
    auto const epoch = history.epoch();
    auto const now = now_ms();
    json channels = json::object();
    for (auto const& channel : definition.channels) {
        webhooks::cursor_position at;
        channel_progress const* live = nullptr;
        if (here)
            if (auto it = progress->channels.find(channel); it != progress->channels.end()) live = &it->second;
        if (live) at = live->delivered;
        else
            for (auto const& p : positions)
                if (p.channel == channel) at = {p.epoch, p.offset, p.timestamp};
        auto const last = history.span(channel).last;
        std::uint64_t const lag = at.epoch != epoch ? last : last > at.offset ? last - at.offset : 0;
        json c = {{"epoch", at.epoch}, {"delivered", at.offset}, {"timestamp", at.timestamp}, {"last", last}, {"lag", lag}};
        if (live) {
            c["lag_seconds"] = live->oldest_pending_ms && now > live->oldest_pending_ms
                                   ? static_cast<double>(now - live->oldest_pending_ms) / 1000.0 : 0.0;
            c["failures"] = live->failures;
            c["next_attempt"] = live->next_attempt_ms ? json(live->next_attempt_ms) : json(nullptr);
        }
        channels[channel] = std::move(c);
    }
    out["positions"] = std::move(channels);
    out["delivered_here"] = here;
    return out;
}

admin_answer webhook_admin::list(admin_access::caller const& caller) {
    json webhooks = json::array();
    for (auto const& stored : context_.store.load_all()) {
        auto definition = webhooks::webhook_definition::from_store_text(stored.definition);
        if (!definition || !admin_access::covers_all(caller, definition->channels)) continue;
        webhooks.push_back(describe(*definition, stored.positions));
    }
    admin_answer answer;
    answer.body = {{"webhooks", std::move(webhooks)}};
    return answer;
}

admin_answer webhook_admin::get(admin_access::caller const& caller, std::string const& id) {
    auto found = visible(caller, id);
    if (auto* refusal = std::get_if<admin_answer>(&found)) return std::move(*refusal);
    auto const& stored = std::get<store::stored_webhook>(found);
    admin_answer answer;
    answer.body = describe(*webhooks::webhook_definition::from_store_text(stored.definition), stored.positions);
    return answer;
}

admin_answer webhook_admin::patch(admin_access::caller const& caller, std::string const& id, nlohmann::json const& body) {
    auto parsed = webhooks::webhook_request::parse_patch(body, limits_of(context_.config));
    if (auto const* e = std::get_if<webhooks::request_error>(&parsed)) return bad(*e);
    auto const& request = std::get<webhooks::patch_request>(parsed);
    auto found = visible(caller, id);
    if (auto* refusal = std::get_if<admin_answer>(&found)) return std::move(*refusal);
    auto stored = std::get<store::stored_webhook>(std::move(found));
    auto definition = *webhooks::webhook_definition::from_store_text(stored.definition);
    if (request.url) {
        if (auto why = refused_target(*request.url)) return bad("url: " + *why);
        definition.url = *request.url;
    }
    std::vector<store::webhook_position> added;
    std::vector<std::string> removed;
    if (request.channels) {
        if (!admin_access::covers_all(caller, *request.channels))
            return admin_answer::error(403, kinto_errno::forbidden, "these credentials do not allow every channel given");
        for (auto const& channel : *request.channels)
            if (std::find(definition.channels.begin(), definition.channels.end(), channel) == definition.channels.end()) {
                auto const at = std::get<webhooks::cursor_position>(start_of(channel, std::nullopt));
                added.push_back({channel, at.epoch, at.offset, at.timestamp});
            }
        for (auto const& channel : definition.channels)
            if (std::find(request.channels->begin(), request.channels->end(), channel) == request.channels->end())
                removed.push_back(channel);
        definition.channels = *request.channels;
        for (auto const& channel : removed) definition.replays.erase(channel);
    }
    if (request.description) definition.description = *request.description;
    if (request.max_batch) definition.max_batch = *request.max_batch;
    if (request.enabled) {
        definition.enabled = *request.enabled;
        definition.disabled_reason = *request.enabled ? std::nullopt : std::optional<std::string>("disabled by an administrator");
    }
    // New channels' positions first: a runner that sees the new definition finds them.
    if (!added.empty() && !context_.store.save_positions(id, added, std::nullopt))
        return admin_answer::error(404, kinto_errno::missing_resource, "no webhook " + id);
    if (!context_.store.update_definition(id, definition.to_store_text()))
        return admin_answer::error(404, kinto_errno::missing_resource, "no webhook " + id);
    if (!removed.empty()) context_.store.forget_positions(id, removed);
    log_event(spdlog::level::info, "webhook.changed", {{"webhook", id}, {"fields", body}});
    service_.changed(id);
    for (auto& p : added) stored.positions.push_back(p);
    admin_answer answer;
    answer.body = describe(definition, stored.positions);
    return answer;
}

admin_answer webhook_admin::remove(admin_access::caller const& caller, std::string const& id) {
    auto found = visible(caller, id);
    if (auto* refusal = std::get_if<admin_answer>(&found)) return std::move(*refusal);
    if (!context_.store.remove(id)) return admin_answer::error(404, kinto_errno::missing_resource, "no webhook " + id);
    log_event(spdlog::level::info, "webhook.deleted", {{"webhook", id}});
    service_.changed(id);
    admin_answer answer;
    answer.body = {{"id", id}, {"deleted", true}};
    return answer;
}

admin_answer webhook_admin::replay(admin_access::caller const& caller, std::string const& id, nlohmann::json const& body) {
    auto parsed = webhooks::webhook_request::parse_replay(body);
    if (auto const* e = std::get_if<webhooks::request_error>(&parsed)) return bad(*e);
    auto const& request = std::get<webhooks::replay_request>(parsed);
    auto found = visible(caller, id);
    if (auto* refusal = std::get_if<admin_answer>(&found)) return std::move(*refusal);
    auto stored = std::get<store::stored_webhook>(std::move(found));
    auto definition = *webhooks::webhook_definition::from_store_text(stored.definition);
    if (std::find(definition.channels.begin(), definition.channels.end(), request.channel) == definition.channels.end())
        return bad("channel: " + request.channel + " is not a channel of the webhook");
    auto start = start_of(request.channel, request.since);
    if (auto const* why = std::get_if<std::string>(&start)) return bad(*why);
    auto const& at = std::get<webhooks::cursor_position>(start);
    // The position for whoever delivers next (a restart too), and in the definition for the
    // node delivering now, which applies it once its request in flight is answered.
    if (!context_.store.save_positions(id, {{request.channel, at.epoch, at.offset, at.timestamp}}, std::nullopt))
        return admin_answer::error(404, kinto_errno::missing_resource, "no webhook " + id);
    ++definition.revision;
    definition.replays[request.channel] = {at, definition.revision};
    if (!context_.store.update_definition(id, definition.to_store_text()))
        return admin_answer::error(404, kinto_errno::missing_resource, "no webhook " + id);
    log_event(spdlog::level::info, "webhook.replay", {{"webhook", id}, {"channel", request.channel}, {"after", at.offset}});
    service_.changed(id);
    for (auto& p : stored.positions)
        if (p.channel == request.channel) p = {request.channel, at.epoch, at.offset, at.timestamp};
    admin_answer answer;
    answer.body = describe(definition, stored.positions);
    return answer;
}

admin_answer webhook_admin::deliveries(admin_access::caller const& caller, std::string const& id) {
    auto found = visible(caller, id);
    if (auto* refusal = std::get_if<admin_answer>(&found)) return std::move(*refusal);
    json list = json::array();
    for (auto const& attempt : context_.board.attempts(id, 50)) list.push_back(attempt.to_json());
    admin_answer answer;
    answer.body = {{"deliveries", std::move(list)}, {"delivered_here", service_.delivers(id)}};
    return answer;
}

}  // namespace kp::server
