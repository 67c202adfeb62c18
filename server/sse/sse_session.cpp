#include "server/sse/sse_session.hpp"

#include "server/http/cors_policy.hpp"
#include "server/http/http_responses.hpp"
#include "server/http/response_head.hpp"
#include "server/net/end_http_connection.hpp"
#include "server/net/io_errors.hpp"
#include "server/net/lingering_close.hpp"
#include "server/session_answers.hpp"
#include "server/sse/sse_request.hpp"
#include "server/sse/sse_text.hpp"
#include "server/telemetry/log_event.hpp"
#include "session/close_code.hpp"
#include "store/random_hex.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <span>

namespace kp::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;
namespace close_code = session::close_code;

namespace {

// How long the last message may take to leave for a client that stopped reading.
constexpr std::chrono::seconds close_grace{5};

std::int64_t now_s() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

template <class Stream>
sse_session<Stream>::sse_session(Stream&& stream, shard& owner, server_context& context,
                                 std::shared_ptr<asio::ssl::context> tls)
    : shard_(owner),
      context_(context),
      tls_(std::move(tls)),
      stream_(std::move(stream)),
      queue_(context.config.send_queue_bytes, &context.metrics.bytes_queued),
      close_(close_grace, linger_time, false),
      core_(session_answers::session_settings_of(context), context.hub, owner.subscribers(), queue_, *this,
            context.metrics.session),
      id_(store::random_hex(8)) {
    beast::error_code ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
}

template <class Stream>
sse_session<Stream>::~sse_session() {
    if (!accepted_) return;
    shard_.remove_session(this);
    context_.websocket_connections.fetch_sub(1);
    if (phase_ == phase::refusing) return;
    if (!close_.counted()) context_.metrics.sse_closes.with({"client_closed", close_.initiator()}).inc();
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - opened_);
    log_event_lazily(spdlog::level::info, "sse.close", [&] {
        return nlohmann::json{{"session", id_}, {"remote", remote_}, {"code", close_.code()},
                              {"initiator", close_.initiator()}, {"duration_ms", ms.count()}};
    });
}

template <class Stream>
void sse_session<Stream>::run(request_type const& request) {
    version_ = request.version();
    // --cors-origins: on the stream's head and on its refusals alike (a page reads either).
    cors_headers_ = context_.cors.response_headers(request, "/v1/sse");
    std::optional<std::string_view> last_event_id;
    if (auto it = request.find("Last-Event-ID"); it != request.end())
        last_event_id = std::string_view(it->value().data(), it->value().size());
    auto parsed = parse_sse_request(std::string_view(request.target().data(), request.target().size()), last_event_id,
                                    context_.config.max_subscriptions);
    if (auto* refusal = std::get_if<sse_refusal>(&parsed))
        return refuse(400, kinto_errno::invalid_parameters, refusal->message);
    auto& wanted = std::get<sse_request>(parsed);
    // The credentials may wait for a key set (a JWT of a rotated key): the stream opens then.
    std::string const token = wanted.access_token;   // before `wanted` moves into the handler
    context_.access.from_upgrade(request[http::field::authorization], token, now_s(), stream_.get_executor(),
                                 [self = this->shared_from_this(), wanted = std::move(wanted)](auto found) mutable {
                                     self->open_stream(std::move(wanted), std::move(found));
                                 });
}

template <class Stream>
void sse_session<Stream>::open_stream(sse_request wanted, subscriber_access::upgrade_found found) {
    if (auto const* refusal = found ? std::get_if<session::credential_refusal>(&*found) : nullptr) {
        context_.metrics.auth_failures.with({"subscribe_invalid_credentials"}).inc();
        return refuse(401, kinto_errno::invalid_auth_token, refusal->message());
    }
    if (context_.shutting_down.load()) return refuse(503, kinto_errno::backend, "server shutting down");

    shard_.add_session(this);
    accepted_ = true;
    opened_ = clock::now();
    std::size_t const open = context_.websocket_connections.fetch_add(1) + 1;
    if (open > context_.config.max_connections) {
        context_.metrics.connections_refused.inc();
        return refuse(429, kinto_errno::undefined, "too many connections");
    }
    context_.metrics.connections_total.inc();

    // Held until every channel has its answer (decide()): a refusal replaces all of it.
    http_response head{http::status::ok, version_};
    head.set(http::field::server, "kinto-push/" KINTO_PUSH_VERSION);
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no");
    head.keep_alive(false);   // the stream ends with the connection
    cors_policy::add_headers(cors_headers_, head);
    auto head_text = std::make_shared<std::string>();
    append_response_head(*head_text, head);
    queue_.push(std::move(head_text));
    queue_.push(sse_text::stream_start());

    // Until a channel's `subscribed` is sent, the stream's ids carry what it asked.
    state_ = sse_stream_state(wanted);
    if (found) core_.set_identity(std::move(std::get<session::subscriber_identity>(*found)));
    for (auto& s : wanted.subscribes) core_.submit(std::move(s));
    queued();
}

template <class Stream>
void sse_session<Stream>::decide() {
    if (phase_ != phase::subscribing) return;
    if (auto const refusal = state_.refused()) return refuse(refusal->status, refusal->errno_value, refusal->message);
    phase_ = phase::streaming;
    last_write_ = clock::now();
    log_event_lazily(spdlog::level::info, "sse.open", [&] {
        return nlohmann::json{{"session", id_}, {"remote", remote_}, {"channels", state_.channels().size()}};
    });
    do_read();
    flush();
}

template <class Stream>
void sse_session<Stream>::refuse(unsigned status, int errno_value, std::string const& message) {
    phase_ = phase::refusing;
    queue_.seal(nullptr);   // nothing of the stream was written: it all goes
    finish();
    spdlog::debug("sse {}: refused with {}: {}", id_, status, message);
    refusal_ = std::make_unique<http_response>(error_response(status, errno_value, message, version_, false));
    cors_policy::add_headers(cors_headers_, *refusal_);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    http::async_write(stream_, *refusal_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return;
        end_http_connection(self->stream_, self);
    });
}

template <class Stream>
void sse_session<Stream>::shutdown() {
    close(close_code::going_away, "server shutting down");
}

template <class Stream>
void sse_session<Stream>::history_lost() {
    close(close_code::going_away, "history lost; reconnect to resync");
}

template <class Stream>
void sse_session<Stream>::tick(clock::time_point now) {
    if (!accepted_ || phase_ != phase::streaming || close_.dropped()) return;
    if (!close_.is_open()) return act(close_.tick(now));   // the last message past its deadline
    if (queue_.empty() && now - last_write_ >= std::chrono::seconds(context_.config.heartbeat_s)) {
        queue_.push(sse_text::ping());
        flush();
    }
    core_.recheck_due(session_answers::steady_ms(), shard_.sweep().count());
}

// session::session_port

template <class Stream>
void sse_session<Stream>::authorize(session::subscriber_identity const& identity, std::string const& channel,
                                    decided done) {
    session_answers::authorize(context_, stream_.get_executor(), this->shared_from_this(), identity, channel,
                               std::move(done));
}

template <class Stream>
void sse_session<Stream>::recheck(session::subscriber_identity const& identity, std::string const& channel,
                                  decided done) {
    session_answers::recheck(context_, stream_.get_executor(), this->shared_from_this(), identity, channel,
                             std::move(done));
}

template <class Stream>
std::int64_t sse_session<Stream>::steady_ms() const {
    return session_answers::steady_ms();
}

template <class Stream>
void sse_session<Stream>::identify(std::string const&, identified done) {
    done(session::access_decision::unauthorized);   // a stream's credentials come with its request only
}

template <class Stream>
void sse_session<Stream>::locate(std::string const& channel, std::int64_t timestamp, located done) {
    session_answers::locate(context_, stream_.get_executor(), this->shared_from_this(), channel, timestamp,
                            std::move(done));
}

template <class Stream>
void sse_session<Stream>::read_page(std::string const& channel, std::uint64_t after, std::size_t limit, paged done) {
    session_answers::read_page(context_, stream_.get_executor(), this->shared_from_this(), channel, after, limit,
                               false, std::move(done));
}

template <class Stream>
void sse_session<Stream>::watch_expiry(std::optional<std::int64_t> ends_s) {
    if (expiry_) expiry_->cancel();
    if (!ends_s) return;
    if (!expiry_) expiry_ = std::make_unique<asio::steady_timer>(stream_.get_executor());
    expiry_->expires_after(std::chrono::seconds(std::max<std::int64_t>(0, *ends_s - now_s())));
    expiry_->async_wait([self = this->shared_from_this(), this, ends = *ends_s](beast::error_code ec) {
        if (!ec) core_.expired(ends);
    });
}

template <class Stream>
session::frame_ptr sse_session<Stream>::reply_frame(json const& frame) {
    // A stream asks only its subscribes: each is answered `subscribed` or `error`, in order.
    auto const& type = frame.at("type").get_ref<std::string const&>();
    if (type == "subscribed") {
        // Where the subscription starts (after `since`, or the head): the stream's position
        // for this channel until its events move it.
        auto const& channel = frame.at("channel").get_ref<std::string const&>();
        state_.subscribed(channel, frame.at("epoch").get<std::string>(), core_.subscriptions().position(channel));
        return std::make_shared<std::string const>(sse_text::subscribed(frame));
    }
    if (type == "unsubscribed") {
        // Only the core's recheck unsubscribes a stream: Kinto no longer allows the channel.
        auto event = std::make_shared<std::string const>(sse_text::revoked(frame.at("channel").get<std::string>()));
        if (core_.subscriptions().size() == 0) revoked_last_ = event;
        return event;
    }
    if (type == "error" && !state_.decided())
        state_.subscribe_failed(frame.at("code").get_ref<std::string const&>(),
                                frame.at("message").get_ref<std::string const&>());
    return std::make_shared<std::string const>();   // nothing to write: a refusal replaces the stream
}

template <class Stream>
void sse_session<Stream>::push_event(session::send_queue& queue, channels::message_ptr const& m) {
    // The stream's position moves on this event's channel only.
    state_.moved(m->channel, m->offset);
    if (state_.channels().size() == 1) {
        // The stream's position is this event's: the whole message is shared by every stream.
        queue.push(m->sse_event(m, state_.epoch()));
        return;
    }
    queue.push(m->sse_data(m));   // built once per message, shared by every stream
    queue.push(std::make_shared<std::string const>(state_.id_lines()));
}

template <class Stream>
void sse_session<Stream>::queued() {
    if (phase_ == phase::streaming && revoked_last_) return end_revoked();
    if (phase_ == phase::streaming) return flush();
    if (phase_ != phase::subscribing || deciding_) return;
    if (!state_.decided()) return;
    // Decided outside the core's call (which may be a delivery): the refusal ends the core.
    deciding_ = true;
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->decide(); });
}

template <class Stream>
void sse_session<Stream>::close(std::uint16_t code, std::string const& reason) {
    if (phase_ == phase::subscribing) {
        // Before the stream: an HTTP answer says it.
        state_.closed_before_start(code, reason);
        queue_.seal(nullptr);
        return queued();
    }
    if (phase_ != phase::streaming) return;
    if (!close_.close(code, clock::now())) {
        queue_.seal(nullptr);
        return;
    }
    close_.mark_counted();
    context_.metrics.sse_closes.with({sse_text::error_code(code), "server"}).inc();
    spdlog::debug("sse {}: ending with {} ({})", id_, sse_text::error_code(code), reason);
    // What is queued but not being written goes: the client resumes from its last id.
    queue_.seal(std::make_shared<std::string const>(sse_text::error(sse_text::error_code(code), reason)));
    // May run inside a delivery: the channels are left once it is over.
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->finish(); });
    flush();
}

template <class Stream>
void sse_session<Stream>::end_revoked() {
    auto last = std::move(revoked_last_);
    revoked_last_.reset();
    if (!close_.close(close_code::normal, clock::now())) return;
    close_.mark_counted();
    context_.metrics.sse_closes.with({"forbidden", "server"}).inc();
    spdlog::debug("sse {}: ending: Kinto no longer allows its channels", id_);
    // The error event was just queued, not written: sealing drops that copy and whatever else
    // waits (events of the revoked channel only), then queues it as the stream's last message.
    queue_.seal(std::move(last));
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->finish(); });
    flush();
}

// Writing and reading

template <class Stream>
void sse_session<Stream>::flush() {
    if (phase_ == phase::streaming && !queue_.writing() && !queue_.empty() && !close_.dropped()) do_write();
}

template <class Stream>
void sse_session<Stream>::do_write() {
    last_write_ = clock::now();
    write_queued(stream_, queue_, gather_,
                 beast::bind_front_handler(&sse_session::on_write, this->shared_from_this()));
}

template <class Stream>
void sse_session<Stream>::on_write(beast::error_code ec, std::size_t) {
    give_back(std::move(gather_));
    queue_.written();
    if (ec) {
        if (!close_.dropped()) log_unexpected(ec, "sse write");
        close_.io_failed();
        return drop();
    }
    if (!close_.is_open()) {
        if (!queue_.empty()) return do_write();   // the error event is the last one queued
        return act(close_.final_written(clock::now()));
    }
    core_.written();
    flush();
}

template <class Stream>
void sse_session<Stream>::do_read() {
    if (close_.dropped()) return;
    stream_.async_read_some(asio::buffer(discard_),
                            beast::bind_front_handler(&sse_session::on_read, this->shared_from_this()));
}

template <class Stream>
void sse_session<Stream>::on_read(beast::error_code ec, std::size_t bytes) {
    if (ec) {
        // The client went (EventSource.close(), a closed tab), or our end finished draining.
        close_.io_failed();
        return drop();
    }
    drained_ += bytes;   // a client says nothing after its request: discarded, bounded
    if (drained_ >= linger_bytes) return drop();
    do_read();
}

template <class Stream>
void sse_session<Stream>::act(session::close_state::action what) {
    switch (what) {
    case session::close_state::action::none: return;
    case session::close_state::action::start_draining: return start_draining();
    case session::close_state::action::drop: return drop();
    }
}

template <class Stream>
void sse_session<Stream>::start_draining() {
    // The last message is written: stop sending; the read in flight sees the client close.
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::socket_base::shutdown_send, ignored);
}

template <class Stream>
void sse_session<Stream>::drop() {
    close_.drop();
    queue_.seal(nullptr);
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    finish();
}

template <class Stream>
void sse_session<Stream>::finish() {
    if (finished_) return;
    finished_ = true;
    if (expiry_) expiry_->cancel();
    core_.end();
}

template class sse_session<beast::tcp_stream>;
template class sse_session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace kp::server
