#include "session/session_core.hpp"

#include "auth/jwt_verifier.hpp"
#include "session/close_code.hpp"
#include "store/store_error.hpp"

#include <spdlog/spdlog.h>

#include <type_traits>
#include <utility>
#include <variant>

namespace kp::session {

using json = nlohmann::ordered_json;

session_core::session_core(session_settings settings, channels::channel_hub& hub, channels::subscriber_table& table,
                           send_queue& queue, session_port& port, session_metrics const& metrics)
    : settings_(settings),
      hub_(hub),
      queue_(queue),
      port_(port),
      metrics_(metrics),
      subscriptions_(hub, table, this, queue, port, metrics),
      recheck_(settings.recheck_ms) {}

void session_core::set_identity(subscriber_identity identity) {
    identity_ = std::move(identity);
    // Tokens are accepted up to the leeway after `exp` (clock skew); the connection ends then too.
    port_.watch_expiry(identity_.expires ? std::optional(*identity_.expires + auth::jwt_verifier::leeway_s)
                                         : std::nullopt);
}

void session_core::receive(std::string_view text) {
    submit(client_frame::parse(text));
}

void session_core::submit(client_frame::parsed request) {
    if (ended_ || !queue_.open()) return;
    if (!busy_ && !waiting_) {
        // Nothing ahead of it: handled at once (the common case: no queueing, no allocation).
        handle(request);
        port_.queued();
        return;
    }
    if (!waiting_) waiting_ = std::make_unique<std::deque<client_frame::parsed>>();
    waiting_->push_back(std::move(request));
    next();
}

void session_core::next() {
    // An answer that comes before its call returns lands here again: the loop below goes on.
    if (in_next_) return;
    in_next_ = true;
    bool const was_full = !accepting();
    while (!busy_ && waiting_ && !waiting_->empty() && !ended_ && queue_.open()) {
        auto request = std::move(waiting_->front());
        waiting_->pop_front();
        handle(request);
    }
    if (waiting_ && (waiting_->empty() || ended_)) waiting_.reset();
    in_next_ = false;
    if (was_full && accepting() && !ended_) port_.accepting_again();
    port_.queued();
}

void session_core::done() {
    busy_ = false;
    next();
}

void session_core::handle(client_frame::parsed& request) {
    std::visit(
        [this](auto& r) {
            using kind = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<kind, client_frame::protocol_violation>)
                close(close_code::protocol_violation, r.reason);
            else if constexpr (std::is_same_v<kind, client_frame::bad_request>)
                reply_error(r.id, r.code.c_str(), r.message);
            else if constexpr (std::is_same_v<kind, client_frame::subscribe>)
                handle_subscribe(std::move(r));
            else if constexpr (std::is_same_v<kind, client_frame::unsubscribe>)
                handle_unsubscribe(r);
            else if constexpr (std::is_same_v<kind, client_frame::ping>)
                reply(json{{"type", "pong"}}, r.id);
            else
                handle_auth(r);
        },
        request);
}

void session_core::handle_subscribe(client_frame::subscribe request) {
    // The frame is valid (client_frame::parse); what remains depends on this connection.
    if (subscriptions_.contains(request.channel))
        return reply_error(request.id, "bad_request", "channel: already subscribed");
    if (subscriptions_.size() >= settings_.max_subscriptions)
        return reply_error(request.id, "too_many_subscriptions",
                           "at most " + std::to_string(settings_.max_subscriptions) + " subscriptions per connection");
    busy_ = true;
    auto channel = request.channel;   // a copy: `request` moves into the callback
    port_.authorize(identity_, channel, [this, request = std::move(request)](access_decision decision) {
        on_authorized(request, decision);
    });
}

void session_core::on_authorized(client_frame::subscribe const& request, access_decision decision) {
    if (ended_ || !queue_.open()) return done();
    switch (decision) {
    case access_decision::allowed: return start_subscription(request, std::nullopt);
    case access_decision::unauthorized:
        metrics_.auth_failures.with({"subscribe_unauthorized"}).inc();
        reply_error(request.id, "unauthorized",
                    identity_.empty() ? "this channel needs credentials" : "credentials refused");
        return done();
    case access_decision::forbidden:
        metrics_.auth_failures.with({"subscribe_forbidden"}).inc();
        reply_error(request.id, "forbidden", "these credentials do not allow this channel");
        return done();
    case access_decision::unavailable:
        reply_error(request.id, "unavailable", "the authorization service did not answer; retry later");
        return done();
    }
}

void session_core::start_subscription(client_frame::subscribe const& request,
                                      std::optional<store::timestamp_position> located) {
    auto const& name = request.channel;
    if (request.since_timestamp && !located) {
        // The session's thread never waits on the disk or on Redis for a timestamp's position.
        located = hub_.history().position_in_memory(name, *request.since_timestamp);
        if (!located) {
            return port_.locate(name, *request.since_timestamp,
                                [this, request](std::optional<store::timestamp_position> position) {
                                    if (ended_ || !queue_.open()) return done();
                                    if (!position) {
                                        reply_error(request.id, "unavailable", "history store unavailable; retry later");
                                        return done();
                                    }
                                    start_subscription(request, position);
                                });
        }
    }
    // Register first, then plan on this thread: see subscription_set's comment.
    subscriptions_.enter(name);
    channels::resume_plan plan;
    try {
        plan = request.since_timestamp  ? hub_.plan_from_position(name, *located)
               : request.since_position ? hub_.plan_from(name, *request.since_position)
                                        : hub_.plan_live(name);
    } catch (store::store_error const& e) {
        spdlog::error("planning {}: {}", name, e.what());
        subscriptions_.leave(name);
        reply_error(request.id, "unavailable", "history store unavailable; retry later");
        return done();
    }
    if (request.since_timestamp || request.since_position)
        (plan.recovered ? metrics_.replays_recovered : metrics_.replays_not_recovered).inc();
    subscriptions_.start(name, plan);
    recheck_.granted(name, port_.steady_ms());
    reply(json{{"type", "subscribed"},
               {"channel", name},
               {"epoch", plan.epoch},
               {"offset", plan.offset},
               {"recovered", plan.recovered}},
          request.id);
    if (plan.replay) subscriptions_.pump();
    done();
}

void session_core::handle_unsubscribe(client_frame::unsubscribe const& request) {
    if (!subscriptions_.leave(request.channel)) return reply_error(request.id, "not_found", "channel: not subscribed");
    recheck_.forget(request.channel);
    reply(json{{"type", "unsubscribed"}, {"channel", request.channel}}, request.id);
}

void session_core::handle_auth(client_frame::auth const& request) {
    if (settings_.development_mode)
        return reply_error(request.id, "unauthorized", "subscriber authentication is not configured on this server");
    busy_ = true;
    port_.identify(request.token, [this, id = request.id](std::variant<subscriber_identity, credential_refusal> result) {
        on_identified(id, std::move(result));
    });
}

void session_core::on_identified(json const& id, std::variant<subscriber_identity, credential_refusal> result) {
    if (ended_ || !queue_.open()) return done();
    if (auto* identity = std::get_if<subscriber_identity>(&result)) {
        // Subscriptions already granted stay; later ones are judged with these credentials.
        set_identity(std::move(*identity));
        json sub = identity_.sub ? json(*identity_.sub) : json(nullptr);
        json expires = identity_.expires ? json(*identity_.expires) : json(nullptr);
        reply(json{{"type", "authenticated"}, {"sub", sub}, {"expires", expires}}, id);
    } else if (auto const& refusal = std::get<credential_refusal>(result); refusal.decision == access_decision::unavailable) {
        reply_error(id, "unavailable", "the authorization service did not answer; retry later");
    } else {
        // A bad auth frame changes nothing else.
        metrics_.auth_failures.with({"auth_frame_invalid"}).inc();
        spdlog::debug("auth frame refused: {}", refusal.message());
        reply_error(id, "unauthorized", refusal.message());
    }
    done();
}

void session_core::deliver(channels::message_ptr const& m, std::uint64_t batch) {
    // The shard's table hands this connection only the channels it entered.
    if (ended_ || !queue_.open()) return;
    if (queue_.too_slow_for_batch(batch))
        return close(close_code::too_slow, "send queue over " + std::to_string(queue_.limit()) + " bytes");
    subscriptions_.deliver(m);
    port_.queued();
}

void session_core::written() {
    if (ended_ || !queue_.open()) return;
    subscriptions_.pump();
}

void session_core::expired(std::int64_t ends_s) {
    if (ended_ || !queue_.open()) return;
    // A fresh token that arrived meanwhile moved the deadline: this one is stale.
    if (!identity_.expires || *identity_.expires + auth::jwt_verifier::leeway_s != ends_s) return;
    close(close_code::unauthorized, "token expired");
}

void session_core::recheck_due(std::int64_t now_ms, std::int64_t lead_ms) {
    if (ended_ || !queue_.open() || !recheck_.enabled()) return;
    for (auto& q : recheck_.due(now_ms, lead_ms)) {
        auto const channel = q.channel;   // a copy: `q` moves into the callback
        port_.recheck(identity_, channel,
                      [this, q = std::move(q), credential = identity_.kinto_credential](access_decision decision) {
                          on_rechecked(q, credential, decision);
                      });
    }
}

void session_core::on_rechecked(recheck_schedule::question const& q, std::optional<std::string> const& credential,
                                access_decision decision) {
    if (ended_ || !queue_.open()) return;
    // An `auth` frame changed the credentials while Kinto was asked: ask again with the new ones.
    if (credential != identity_.kinto_credential) return recheck_.reask(q);
    switch (recheck_.answered(q, decision)) {
    case recheck_schedule::verdict::keep:
    case recheck_schedule::verdict::stale: return;
    case recheck_schedule::verdict::end_channel:
        metrics_.auth_failures.with({"recheck_forbidden"}).inc();
        // No event of the channel after this frame (what is queued before it stays).
        subscriptions_.leave(q.channel);
        reply(json{{"type", "unsubscribed"}, {"channel", q.channel}, {"reason", "forbidden"}}, nullptr);
        return port_.queued();
    case recheck_schedule::verdict::close_connection:
        metrics_.auth_failures.with({"recheck_unauthorized"}).inc();
        return close(close_code::unauthorized, "credentials no longer accepted by Kinto");
    }
}

void session_core::reply(json frame, json const& id) {
    if (!id.is_null()) frame["id"] = id;
    // Replies count against the limit as they come (a client that sends but never reads).
    if (queue_.push(port_.reply_frame(frame)))
        close(close_code::too_slow, "send queue over " + std::to_string(queue_.limit()) + " bytes");
}

void session_core::reply_error(json const& id, char const* code, std::string const& message) {
    reply(json{{"type", "error"}, {"code", code}, {"message", message}}, id);
}

void session_core::close(std::uint16_t code, std::string const& reason) {
    if (!queue_.open()) return;
    port_.close(code, reason);
}

void session_core::end() {
    if (ended_) return;
    ended_ = true;
    waiting_.reset();
    port_.watch_expiry(std::nullopt);
    recheck_.clear();
    subscriptions_.leave_all();
}

}  // namespace kp::session
