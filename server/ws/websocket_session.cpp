#include "server/ws/websocket_session.hpp"

#include "server/ws/client_frame.hpp"
#include "server/ws/close_code.hpp"
#include "server/net/io_errors.hpp"
#include "server/telemetry/log_event.hpp"
#include "store/random_hex.hpp"
#include "store/store_error.hpp"
#include "auth/jwt_verifier.hpp"
#include "server/http/http_responses.hpp"
#include "server/net/lingering_close.hpp"
#include "websocket/frame_encoder.hpp"
#include "websocket/handshake.hpp"

#include <boost/url/parse.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <type_traits>
#include <variant>

namespace kp::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

namespace {

constexpr std::size_t replay_page = 64;
// How long a close may wait for a peer that stopped reading before the socket is dropped.
constexpr std::chrono::seconds close_grace{5};
// The read buffer starts this small and grows only while a larger message arrives.
constexpr std::size_t read_chunk = 512;

std::int64_t now_s() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

// The keep-alive ping: the same frame for every connection.
std::shared_ptr<std::string const> const& ping_frame() {
    static auto const frame = std::make_shared<std::string const>(websocket::encode_frame(websocket::opcode::ping, ""));
    return frame;
}

}  // namespace

template <class Stream>
websocket_session<Stream>::websocket_session(Stream&& stream, shard& owner, server_context& context,
                                            std::shared_ptr<asio::ssl::context> tls)
    : tls_(std::move(tls)),
      stream_(std::move(stream)),
      shard_(owner),
      context_(context),
      reader_(context.config.max_frame_bytes),
      id_(store::random_hex(8)) {
    beast::error_code ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
}

template <class Stream>
websocket_session<Stream>::~websocket_session() {
    // Normally leave_all() ran already; this covers sessions destroyed with their io_context.
    for (auto const& [channel, sub] : subscriptions_) {
        shard_.subscribers().remove(channel, this);
        context_.hub.unsubscribed(channel);
    }
    context_.metrics.bytes_queued.sub(static_cast<std::int64_t>(queued_bytes_));
    context_.metrics.replay_read_ahead_bytes.sub(static_cast<std::int64_t>(page_bytes_));
    if (accepted_) {
        shard_.remove_session(this);
        context_.websocket_connections.fetch_sub(1);
        auto const code = close_code_.value_or(1006);
        if (!close_counted_) context_.metrics.closes.with({std::to_string(code), close_initiator_}).inc();
        auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - opened_);
        log_event_lazily(spdlog::level::info, "websocket.close", [&] {
            return nlohmann::json{{"session", id_}, {"remote", remote_}, {"code", code},
                                  {"initiator", close_initiator_}, {"duration_ms", ms.count()}};
        });
    }
}

template <class Stream>
void websocket_session<Stream>::run(http::request<http::string_body> request) {
    // The opening handshake (RFC 6455 section 4.2.1); http_session checked the Upgrade.
    if (request[http::field::sec_websocket_version] != "13")
        return refuse_upgrade(426, "Sec-WebSocket-Version: only 13 is supported");
    auto const key = request[http::field::sec_websocket_key];
    if (!websocket::valid_client_key(std::string_view(key.data(), key.size())))
        return refuse_upgrade(400, "Sec-WebSocket-Key: missing or not 16 bytes in base64");

    // Credentials in the upgrade: the Authorization header, or ?access_token= for browsers.
    std::string access_token;
    if (auto target = boost::urls::parse_origin_form(request.target())) {
        auto params = target->params();
        if (auto it = params.find("access_token"); it != params.end()) access_token = std::string((*it).value);
    }
    if (auto found = context_.access.from_upgrade(request[http::field::authorization], access_token, now_s())) {
        if (auto* identity = std::get_if<subscriber_identity>(&*found)) identity_ = std::move(*identity);
        else refused_ = true;   // a browser cannot read an HTTP status: open, then close with 4001
    }

    handshake_ = std::make_unique<http::response<http::string_body>>(http::status::switching_protocols, 11);
    handshake_->set(http::field::server, "kinto-push/" KINTO_PUSH_VERSION);
    handshake_->set(http::field::upgrade, "websocket");
    handshake_->set(http::field::connection, "Upgrade");
    handshake_->set(http::field::sec_websocket_accept, websocket::accept_key(std::string_view(key.data(), key.size())));
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *handshake_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->handshake_.reset();
        self->on_accept(ec);
    });
}

template <class Stream>
void websocket_session<Stream>::refuse_upgrade(unsigned status, std::string const& message) {
    handshake_ = std::make_unique<http::response<http::string_body>>(
        error_response(status, kinto_errno::invalid_parameters, message, 11, false));
    if (status == 426) handshake_->set(http::field::sec_websocket_version, "13");
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    http::async_write(stream_, *handshake_, [self = shared_from_this()](beast::error_code, std::size_t) {
        self->handshake_.reset();
        self->closing_ = true;
        self->close_written_ = true;
        self->reader_failed_ = true;
        self->start_draining();
    });
}

template <class Stream>
void websocket_session<Stream>::on_accept(beast::error_code ec) {
    if (ec) return log_unexpected(ec, "websocket accept");
    // From here on the shard's sweep watches the connection (keep-alive, close deadline).
    beast::get_lowest_layer(stream_).expires_never();
    last_heard_ = clock::now();
    shard_.add_session(this);
    accepted_ = true;
    opened_ = std::chrono::steady_clock::now();
    context_.metrics.connections_total.inc();
    log_event_lazily(spdlog::level::info, "websocket.open",
                     [&] { return nlohmann::json{{"session", id_}, {"remote", remote_}}; });
    std::size_t const open = context_.websocket_connections.fetch_add(1) + 1;
    do_read();
    if (open > context_.config.max_connections) {
        context_.metrics.connections_refused.inc();
        return close_with(close_code::too_many_connections, "too many connections");
    }
    if (refused_) {
        context_.metrics.auth_failures.with({"subscribe_invalid_credentials"}).inc();
        return close_with(close_code::unauthorized, "invalid credentials");
    }
    watch_expiry();
    if (context_.shutting_down.load()) return close_with(close_code::going_away, "server shutting down");
    reply(json{{"type", "welcome"},
               {"session", id_},
               {"server", "kinto-push/" KINTO_PUSH_VERSION},
               {"heartbeat", context_.config.heartbeat_s}},
          nullptr);
}

template <class Stream>
void websocket_session<Stream>::shutdown() {
    close_with(close_code::going_away, "server shutting down");
}

template <class Stream>
void websocket_session<Stream>::history_lost() {
    close_with(close_code::going_away, "history lost; resume to resync");
}

template <class Stream>
void websocket_session<Stream>::tick(clock::time_point now) {
    if (!accepted_ || dropped_) return;
    if (closing_) {
        // A peer that stopped reading cannot receive the close frame, nor answer it.
        if (now - close_started_ > close_grace) drop();
        return;
    }
    auto const heartbeat = std::chrono::seconds(context_.config.heartbeat_s);
    auto const silent = now - last_heard_;
    if (silent >= 2 * heartbeat) {
        spdlog::debug("session {}: silent for two heartbeats; dropping", id_);
        closing_ = true;
        close_started_ = now;
        drop();
        return leave_all();
    }
    if (silent >= heartbeat && !ping_outstanding_) {
        ping_outstanding_ = true;
        enqueue(ping_frame(), false);
    }
}

template <class Stream>
void websocket_session<Stream>::do_read() {
    if (dropped_) return;
    std::size_t const held = buffer_.size();
    std::size_t const wanted = reader_.wanted() > held ? reader_.wanted() - held : 0;
    if (held == 0 && buffer_.capacity() > 4 * read_chunk) buffer_.shrink_to_fit();   // after a large message
    stream_.async_read_some(buffer_.prepare(std::max(wanted, read_chunk)),
                            beast::bind_front_handler(&websocket_session<Stream>::on_read, shared_from_this()));
}

template <class Stream>
void websocket_session<Stream>::on_read(beast::error_code ec, std::size_t bytes) {
    if (ec) {
        if (!draining_) log_unexpected(ec, "websocket read");
        if (!close_code_) {
            // The connection ended without a close handshake.
            close_code_ = 1006;
            close_initiator_ = "client";
        }
        closing_ = true;
        drop();
        return leave_all();
    }
    last_heard_ = clock::now();
    ping_outstanding_ = false;
    buffer_.commit(bytes);
    // Parse frame after frame; once the peer broke the protocol or we drain, only discard.
    while (!draining_ && !reader_failed_ && !dropped_) {
        auto data = buffer_.data();
        auto r = reader_.read(std::span<char>(static_cast<char*>(data.data()), data.size()));
        handle_event(r.event);   // before consume(): the event's payload points into the buffer
        buffer_.consume(r.consumed);
        if (r.consumed == 0) break;
    }
    if (draining_ || reader_failed_) {
        // Discard what a closing peer still sends, up to a bound.
        drained_ += buffer_.size();
        buffer_.consume(buffer_.size());
        if (drained_ >= linger_bytes) return drop();
    }
    do_read();
}

template <class Stream>
void websocket_session<Stream>::handle_event(websocket::frame_event const& event) {
    using kind = websocket::frame_event::kind;
    switch (event.what) {
    case kind::none:
    case kind::pong:   // any byte from the peer already counts as a sign of life
        return;
    case kind::text:
        if (!closing_) handle_frame(event.payload);   // the peer keeps talking while we close: ignore it
        return;
    case kind::binary:
        if (!closing_) close_with(close_code::protocol_violation, "binary frames are not supported");
        return;
    case kind::ping:
        if (!closing_)
            enqueue(std::make_shared<std::string const>(websocket::encode_frame(websocket::opcode::pong, event.payload)));
        return;
    case kind::close:
        peer_closed_ = true;
        if (!close_code_) {
            // The peer closed first: counted with its code when the session ends.
            close_code_ = event.code == close_code::no_status ? std::uint16_t(1005) : std::uint16_t(event.code);
            close_initiator_ = "client";
        }
        if (!closing_) {
            // Answer with the peer's code (RFC 6455 section 5.5.1), then end the connection.
            close_with(event.code == close_code::no_status ? close_code::normal : event.code, "");
        } else if (close_written_) {
            start_draining();
        }
        return;
    case kind::error:
        spdlog::debug("session {}: protocol error: {}", id_, event.payload);
        reader_failed_ = true;
        if (!closing_) return close_with(event.code, std::string(event.payload));
        if (close_written_) start_draining();
        return;
    }
}

template <class Stream>
void websocket_session<Stream>::handle_frame(std::string_view text) {
    std::visit(
        [this](auto&& request) {
            using kind = std::decay_t<decltype(request)>;
            if constexpr (std::is_same_v<kind, client_frame::protocol_violation>)
                close_with(close_code::protocol_violation, request.reason);
            else if constexpr (std::is_same_v<kind, client_frame::bad_request>)
                reply_error(request.id, request.code.c_str(), request.message);
            else if constexpr (std::is_same_v<kind, client_frame::subscribe>)
                handle_subscribe(std::move(request));
            else if constexpr (std::is_same_v<kind, client_frame::unsubscribe>)
                handle_unsubscribe(request);
            else if constexpr (std::is_same_v<kind, client_frame::ping>)
                reply(json{{"type", "pong"}}, request.id);
            else
                handle_auth(request);
        },
        client_frame::parse(text));
}

template <class Stream>
void websocket_session<Stream>::handle_subscribe(client_frame::subscribe request) {
    // The frame is valid (client_frame::parse); what remains depends on this connection.
    auto const& id = request.id;
    auto const& name = request.channel;
    if (subscriptions_.contains(name) || pending_.contains(name))
        return reply_error(id, "bad_request", "channel: already subscribed");
    if (subscriptions_.size() + pending_.size() >= context_.config.max_subscriptions)
        return reply_error(id, "too_many_subscriptions",
                           "at most " + std::to_string(context_.config.max_subscriptions) +
                               " subscriptions per connection");

    // Authorize, then subscribe. The decision may come later (Kinto): meanwhile the channel is
    // pending, and counts as held.
    auto const held = hold(name);
    auto channel = name;   // a copy: `request`, which `name` refers to, moves into the callback
    context_.access.authorize(identity_, channel, stream_.get_executor(),
                              [self = shared_from_this(), request = std::move(request), held](access_decision decision) {
                                  self->on_authorized(request, held, decision);
                              });
}

template <class Stream>
void websocket_session<Stream>::on_authorized(client_frame::subscribe const& request, std::uint64_t held,
                                              access_decision decision) {
    // Unsubscribed (or closed) while Kinto was thinking: nothing to do.
    if (closing_ || !release(request.channel, held)) return;
    switch (decision) {
    case access_decision::allowed: return start_subscription(request);
    case access_decision::unauthorized:
        context_.metrics.auth_failures.with({"subscribe_unauthorized"}).inc();
        return reply_error(request.id, "unauthorized",
                           identity_.empty() ? "this channel needs credentials" : "credentials refused");
    case access_decision::forbidden:
        context_.metrics.auth_failures.with({"subscribe_forbidden"}).inc();
        return reply_error(request.id, "forbidden", "these credentials do not allow this channel");
    case access_decision::unavailable:
        return reply_error(request.id, "unavailable", "the authorization service did not answer; retry later");
    }
}

template <class Stream>
void websocket_session<Stream>::locate_timestamp(client_frame::subscribe request) {
    auto const held = hold(request.channel);
    asio::post(context_.blocking, [self = shared_from_this(), request = std::move(request), held]() mutable {
        std::optional<store::timestamp_position> located;
        try {
            located = self->context_.hub.history().position_after(request.channel, *request.since_timestamp);
        } catch (store::store_error const& e) {
            spdlog::error("session {}: locating {} in {}: {}", self->id_, *request.since_timestamp,
                          request.channel, e.what());
        }
        // The reference moves back with the answer: the session must end on its shard.
        auto executor = self->stream_.get_executor();
        asio::post(executor, [self = std::move(self), request = std::move(request), held, located] {
            // Unsubscribed (or closed) meanwhile: nothing to do.
            if (self->closing_ || !self->release(request.channel, held)) return;
            if (!located)
                return self->reply_error(request.id, "unavailable", "history store unavailable; retry later");
            self->start_subscription(request, located);
        });
    });
}

template <class Stream>
void websocket_session<Stream>::start_subscription(client_frame::subscribe const& request,
                                                   std::optional<store::timestamp_position> located) {
    auto const& id = request.id;
    auto const& name = request.channel;
    auto const& since_timestamp = request.since_timestamp;
    auto const& since_position = request.since_position;
    auto& hub = context_.hub;
    // A shard thread never waits on the disk or on Redis for a timestamp's position.
    if (since_timestamp && !located) {
        located = hub.history().position_in_memory(name, *since_timestamp);
        if (!located) return locate_timestamp(request);
    }
    // Register first, then plan on this thread: see channel_hub's comment for why this order
    // gives no hole and no duplicate.
    shard_.subscribers().add(name, this);
    hub.subscribed(name);
    channels::resume_plan plan;
    try {
        plan = since_timestamp  ? hub.plan_from_position(name, *located)
               : since_position ? hub.plan_from(name, *since_position)
                                : hub.plan_live(name);
    } catch (store::store_error const& e) {
        spdlog::error("session {}: planning {}: {}", id_, name, e.what());
        shard_.subscribers().remove(name, this);
        context_.hub.unsubscribed(name);
        return reply_error(id, "unavailable", "history store unavailable; retry later");
    }
    if (since_timestamp || since_position)
        (plan.recovered ? context_.metrics.replays_recovered : context_.metrics.replays_not_recovered).inc();
    auto& sub = subscriptions_[name];
    sub.sent = plan.replay ? plan.replay_after : plan.offset;
    sub.replaying = plan.replay;
    reply(json{{"type", "subscribed"},
               {"channel", name},
               {"epoch", plan.epoch},
               {"offset", plan.offset},
               {"recovered", plan.recovered}},
          id);
    if (plan.replay) pump_replay();
}

template <class Stream>
void websocket_session<Stream>::handle_auth(client_frame::auth const& request) {
    auto const& id = request.id;
    if (context_.access.development_mode())
        return reply_error(id, "unauthorized", "subscriber authentication is not configured on this server");
    context_.access.from_auth_frame(
        request.token, now_s(), stream_.get_executor(),
        [self = shared_from_this(), id](std::variant<subscriber_identity, access_decision> result) {
            if (self->closing_) return;
            if (auto* identity = std::get_if<subscriber_identity>(&result)) {
                // Subscriptions already granted stay; new ones are judged with these credentials.
                self->identity_ = std::move(*identity);
                self->watch_expiry();
                json sub = self->identity_.sub ? json(*self->identity_.sub) : json(nullptr);
                json expires = self->identity_.expires ? json(*self->identity_.expires) : json(nullptr);
                return self->reply(json{{"type", "authenticated"}, {"sub", sub}, {"expires", expires}}, id);
            }
            // A bad auth frame changes nothing else.
            if (std::get<access_decision>(result) == access_decision::unavailable)
                return self->reply_error(id, "unavailable", "the authorization service did not answer; retry later");
            self->context_.metrics.auth_failures.with({"auth_frame_invalid"}).inc();
            self->reply_error(id, "unauthorized", "invalid credentials");
        });
}

template <class Stream>
void websocket_session<Stream>::watch_expiry() {
    cancel_expiry();
    if (!identity_.expires) return;
    if (!expiry_) expiry_ = std::make_unique<asio::steady_timer>(stream_.get_executor());
    // Tokens are accepted up to `leeway` after `exp` (clock skew); the connection ends then too.
    std::int64_t const ends = *identity_.expires + auth::jwt_verifier::leeway_s;
    expiry_->expires_after(std::chrono::seconds(std::max<std::int64_t>(0, ends - now_s())));
    expiry_->async_wait([self = shared_from_this(), ends](beast::error_code ec) {
        if (ec || self->closing_) return;
        // A fresh token that arrived meanwhile moved the deadline: this wait is stale.
        if (!self->identity_.expires || *self->identity_.expires + auth::jwt_verifier::leeway_s != ends) return;
        self->close_with(close_code::unauthorized, "token expired");
    });
}

template <class Stream>
void websocket_session<Stream>::handle_unsubscribe(client_frame::unsubscribe const& request) {
    auto const& id = request.id;
    auto const& name = request.channel;
    if (pending_.erase(name)) return reply(json{{"type", "unsubscribed"}, {"channel", name}}, id);
    auto it = subscriptions_.find(name);
    if (it == subscriptions_.end()) return reply_error(id, "not_found", "channel: not subscribed");
    forget_page(it->second);
    subscriptions_.erase(it);
    shard_.subscribers().remove(name, this);
    context_.hub.unsubscribed(name);
    reply(json{{"type", "unsubscribed"}, {"channel", name}}, id);
}

template <class Stream>
void websocket_session<Stream>::reply(json frame, json const& id) {
    if (!id.is_null()) frame["id"] = id;
    enqueue(std::make_shared<std::string const>(websocket::encode_frame(websocket::opcode::text, frame.dump())));
}

template <class Stream>
void websocket_session<Stream>::reply_error(json const& id, char const* code, std::string const& message) {
    reply(json{{"type", "error"}, {"code", code}, {"message", message}}, id);
}

template <class Stream>
void websocket_session<Stream>::deliver(channels::message_ptr const& m, std::uint64_t batch) {
    if (closing_) return;
    auto it = subscriptions_.find(m->channel);
    if (it == subscriptions_.end()) return;
    if (batch != last_batch_) {
        // Too slow: a new transaction arrives while the queue still holds more than the limit.
        // Judged once per transaction, so that one large transaction never closes a client
        // that keeps reading (memory stays bounded by the limit plus one transaction).
        last_batch_ = batch;
        if (queued_bytes_ > context_.config.send_queue_bytes)
            return close_with(close_code::too_slow,
                              "send queue over " + std::to_string(context_.config.send_queue_bytes) + " bytes");
    }
    auto& sub = it->second;
    if (sub.replaying || m->offset <= sub.sent) return;   // the replay covers it, or sent already
    if (m->offset != sub.sent + 1) {
        // Cannot happen by design (see channel_hub); if it ever does, fill the hole from history.
        spdlog::error("session {}: {} jumped from offset {} to {}; replaying", id_, m->channel, sub.sent, m->offset);
        sub.replaying = true;
        return pump_replay();
    }
    sub.sent = m->offset;
    enqueue(frame_ptr(m, &m->wire), false);   // shares the message's encoded frame: no copy
    context_.metrics.events_delivered.inc();
}

template <class Stream>
void websocket_session<Stream>::enqueue(frame_ptr frame, bool capped) {
    if (closing_ || dropped_) return;
    queued_bytes_ += frame->size();
    context_.metrics.bytes_queued.add(static_cast<std::int64_t>(frame->size()));
    queue_.push_back(std::move(frame));
    // Replies count against the limit as they come (a client that sends but never reads);
    // live events per transaction (deliver); replay paces itself (pump_replay).
    if (capped && queued_bytes_ > context_.config.send_queue_bytes)
        return close_with(close_code::too_slow,
                          "send queue over " + std::to_string(context_.config.send_queue_bytes) + " bytes");
    if (!writing_) do_write();
}

template <class Stream>
void websocket_session<Stream>::do_write() {
    if (dropped_) return;
    // Every frame queued so far, up to the gather size, in one system call.
    in_flight_ = std::min(queue_.size(), gather_.size());
    for (std::size_t i = 0; i < in_flight_; ++i) gather_[i] = asio::buffer(*queue_[i]);
    writing_ = true;
    asio::async_write(stream_, std::span<asio::const_buffer const>(gather_.data(), in_flight_),
                      beast::bind_front_handler(&websocket_session<Stream>::on_write, shared_from_this()));
}

template <class Stream>
void websocket_session<Stream>::on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    bool wrote_close = false;
    for (std::size_t i = 0; i < in_flight_ && !queue_.empty(); ++i) {
        queued_bytes_ -= queue_.front()->size();
        context_.metrics.bytes_queued.sub(static_cast<std::int64_t>(queue_.front()->size()));
        queue_.pop_front();
    }
    in_flight_ = 0;
    if (ec) {
        if (!dropped_) log_unexpected(ec, "websocket write");
        if (!close_code_) {
            close_code_ = 1006;   // the peer went away mid-write
            close_initiator_ = "client";
        }
        closing_ = true;
        drop();
        return leave_all();
    }
    if (closing_) {
        // The close frame is the last one queued: written once the queue is empty.
        if (queue_.empty() && !close_written_) wrote_close = true;
        if (!queue_.empty()) return do_write();
        if (wrote_close) {
            close_written_ = true;
            // Nothing to wait for when the peer already closed or broke the protocol.
            if (peer_closed_ || reader_failed_) start_draining();
        }
        return;
    }
    pump_replay();
    if (!queue_.empty() && !writing_) do_write();
}

template <class Stream>
void websocket_session<Stream>::pump_replay() {
    // Replay goes at the pace the client reads: a page is queued only down to a low-water
    // mark, so a replay never pushes the queue towards the 4008 limit, however long it is.
    std::size_t const low_water = std::max<std::size_t>(context_.config.send_queue_bytes / 4, 1);
    auto& history = context_.hub.history();
    for (auto& [channel, sub] : subscriptions_) {
        if (closing_) return;
        if (!sub.replaying || sub.loading || queued_bytes_ >= low_water) continue;
        if (sub.queued_of_page < sub.page.size()) {
            queue_page(sub, low_water);   // the rest of the last page first
            continue;
        }
        if (!history.read_in_memory(channel, sub.sent)) {
            read_from_disk(channel, sub.sent);
            continue;
        }
        std::vector<channels::message_ptr> page;
        try {
            page = context_.hub.read(channel, sub.sent, replay_page);
        } catch (store::store_error const& e) {
            spdlog::error("session {}: reading {} from the store: {}", id_, channel, e.what());
            return close_with(close_code::internal_error, "history store unavailable; resume later");
        }
        bool const reaches_head = page.size() < replay_page;
        if (!take_page(sub, std::move(page), low_water)) return;
        // Caught up: this read, on the shard thread and from memory, reached the head, and all
        // of it is queued in this same turn (queue_page then emptied the page); every later
        // offset arrives live. (A page read from disk, or queued over several turns, never
        // decides this: live events that arrived in between were dropped, and the next read
        // picks them up.)
        if (reaches_head && sub.page.empty())
            sub.replaying = false;
        else
            keep_page_within(sub, low_water);   // a slow reader holds at most this much read ahead
    }
}

template <class Stream>
bool websocket_session<Stream>::take_page(subscription& sub, std::vector<channels::message_ptr> page,
                                          std::size_t max_queued_bytes) {
    if (!page.empty() && page.front()->offset != sub.sent + 1) {
        // The history was trimmed past this client while it replayed slowly.
        close_with(close_code::too_slow, "history moved past the replay; resume to resync");
        return false;
    }
    forget_page(sub);
    sub.page = std::move(page);
    std::size_t read = 0;
    for (auto const& m : sub.page) read += m->wire.size();
    count_read_ahead(static_cast<std::int64_t>(read));
    queue_page(sub, max_queued_bytes);
    return true;
}

template <class Stream>
void websocket_session<Stream>::queue_page(subscription& sub, std::size_t max_queued_bytes) {
    std::size_t queued = 0;
    while (sub.queued_of_page < sub.page.size() && queued_bytes_ < max_queued_bytes) {
        auto const& m = sub.page[sub.queued_of_page++];
        queued += m->wire.size();
        sub.sent = m->offset;
        enqueue(frame_ptr(m, &m->wire), false);   // shares the message's encoded frame: no copy
        context_.metrics.events_replayed.inc();
    }
    count_read_ahead(-static_cast<std::int64_t>(queued));
    if (sub.queued_of_page == sub.page.size()) {
        sub.page.clear();   // the frames live on in the send queue as long as they are needed
        sub.queued_of_page = 0;
    }
}

template <class Stream>
void websocket_session<Stream>::keep_page_within(subscription& sub, std::size_t budget) {
    while (page_bytes_ > budget && sub.queued_of_page < sub.page.size()) {
        count_read_ahead(-static_cast<std::int64_t>(sub.page.back()->wire.size()));
        sub.page.pop_back();
    }
    if (sub.queued_of_page == sub.page.size()) {
        sub.page.clear();
        sub.queued_of_page = 0;
    }
}

template <class Stream>
void websocket_session<Stream>::count_read_ahead(std::int64_t bytes) {
    if (bytes == 0) return;
    page_bytes_ = static_cast<std::size_t>(static_cast<std::int64_t>(page_bytes_) + bytes);
    context_.metrics.replay_read_ahead_bytes.add(bytes);
}

template <class Stream>
void websocket_session<Stream>::forget_page(subscription& sub) {
    std::size_t dropped = 0;
    for (std::size_t i = sub.queued_of_page; i < sub.page.size(); ++i) dropped += sub.page[i]->wire.size();
    count_read_ahead(-static_cast<std::int64_t>(dropped));
    sub.page.clear();
    sub.queued_of_page = 0;
}

template <class Stream>
void websocket_session<Stream>::read_from_disk(std::string const& channel, std::uint64_t after) {
    subscriptions_[channel].loading = true;
    asio::post(context_.blocking, [self = shared_from_this(), channel, after]() mutable {
        std::vector<channels::message_ptr> page;
        bool failed = false;
        try {
            page = self->context_.hub.read(channel, after, replay_page);
        } catch (store::store_error const& e) {
            spdlog::error("session {}: reading {} from the store: {}", self->id_, channel, e.what());
            failed = true;
        }
        // The reference moves back with the page: the session must end on its shard.
        auto executor = self->stream_.get_executor();
        asio::post(executor, [self = std::move(self), channel, after, page = std::move(page), failed]() mutable {
            self->on_disk_page(channel, after, std::move(page), failed);
        });
    });
}

template <class Stream>
void websocket_session<Stream>::on_disk_page(std::string const& channel, std::uint64_t after,
                                     std::vector<channels::message_ptr> page, bool failed) {
    auto it = subscriptions_.find(channel);
    if (closing_ || it == subscriptions_.end() || !it->second.loading || it->second.sent != after) return;
    auto& sub = it->second;
    sub.loading = false;
    if (failed) return close_with(close_code::internal_error, "history store unavailable; resume later");
    // Not in memory yet nothing on disk: the history was trimmed meanwhile.
    if (page.empty()) return close_with(close_code::too_slow, "history moved past the replay; resume to resync");
    if (!take_page(sub, std::move(page), std::numeric_limits<std::size_t>::max())) return;
    pump_replay();
}

template <class Stream>
void websocket_session<Stream>::close_with(std::uint16_t code, std::string const& reason) {
    if (closing_) return;
    closing_ = true;
    close_started_ = clock::now();
    if (!close_code_) {
        // Counted now, not when the session ends: a peer that stopped reading keeps it for 5 s.
        close_code_ = code;
        close_counted_ = true;
        if (accepted_) context_.metrics.closes.with({std::to_string(code), "server"}).inc();
    }
    // Drop what is queued but not yet being written: the client resumes from its last offset.
    while (queue_.size() > in_flight_) {
        queued_bytes_ -= queue_.back()->size();
        context_.metrics.bytes_queued.sub(static_cast<std::int64_t>(queue_.back()->size()));
        queue_.pop_back();
    }
    cancel_expiry();
    pending_.clear();
    // May run inside subscriber_table::deliver: leave the table once that walk is over.
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->leave_all(); });
    if (dropped_) return;
    spdlog::debug("session {}: closing with {} ({})", id_, code, reason);
    auto frame = std::make_shared<std::string const>(websocket::encode_close(code, reason));
    queued_bytes_ += frame->size();
    context_.metrics.bytes_queued.add(static_cast<std::int64_t>(frame->size()));
    queue_.push_back(std::move(frame));
    if (!writing_) do_write();
    // Then wait for the peer's close frame; the shard's sweep drops the peer after close_grace.
}

template <class Stream>
void websocket_session<Stream>::start_draining() {
    if (draining_ || dropped_) return;
    draining_ = true;
    // Stop sending, then read what the peer still sends until it closes too: closing with
    // unread data would reset the connection, and the peer could lose our close frame.
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::socket_base::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    // The sweep ends a drain after linger_time (a refused upgrade, not swept, by the stream's expiry).
    close_started_ = clock::now() - close_grace + linger_time;
    if (!accepted_) do_read();   // a refused upgrade had no read in flight
}

template <class Stream>
void websocket_session<Stream>::drop() {
    if (dropped_) return;
    dropped_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
}

template <class Stream>
void websocket_session<Stream>::leave_all() {
    // Every way out passes here: no timer may keep a finished session alive.
    cancel_expiry();
    pending_.clear();
    for (auto const& [channel, sub] : subscriptions_) {
        shard_.subscribers().remove(channel, this);
        context_.hub.unsubscribed(channel);
    }
    subscriptions_.clear();
    // The session stays registered with its shard until it is destroyed: shutdown waits for
    // that, so that close frames are written before the shards stop.
}

template class websocket_session<beast::tcp_stream>;
template class websocket_session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace kp::server
