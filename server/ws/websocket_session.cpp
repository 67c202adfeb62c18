#include "server/ws/websocket_session.hpp"

#include "server/session_answers.hpp"
#include "session/close_code.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace kp::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using json = nlohmann::ordered_json;

namespace {

std::int64_t now_s() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

template <class Stream>
websocket_session<Stream>::websocket_session(Stream&& stream, shard& owner, server_context& context,
                                            std::shared_ptr<asio::ssl::context> tls)
    : base(std::move(stream), owner, context, std::move(tls), "/v1/ws"),
      core_(session_answers::session_settings_of(context), context.hub, owner.subscribers(), base::queue(), *this,
            context.metrics.session) {}

template <class Stream>
void websocket_session<Stream>::on_upgrade(request_type const& request, response_type&, std::function<void()> proceed) {
    // Credentials in the upgrade: the Authorization header, or ?access_token= for browsers.
    std::string access_token;
    if (auto target = boost::urls::parse_origin_form(request.target())) {
        auto params = target->params();
        if (auto it = params.find("access_token"); it != params.end()) access_token = std::string((*it).value);
    }
    this->context_.access.from_upgrade(
        request[http::field::authorization], access_token, now_s(), this->executor(),
        [this, self = this->shared_from_this(), proceed = std::move(proceed)](
            subscriber_access::upgrade_found found) {
            if (found) {
                if (auto* identity = std::get_if<session::subscriber_identity>(&*found))
                    core_.set_identity(std::move(*identity));
                else
                    refused_ = std::get<session::credential_refusal>(*found).message();
            }
            proceed();
        });
}

template <class Stream>
void websocket_session<Stream>::on_open() {
    if (refused_) {
        this->context_.metrics.auth_failures.with({"subscribe_invalid_credentials"}).inc();
        return this->close_with(session::close_code::unauthorized, *refused_);
    }
    open_ = true;
    if (expiry_before_open_) watch_expiry(expiry_before_open_);
    expiry_before_open_.reset();
    core_.reply(json{{"type", "welcome"},
                     {"session", this->id()},
                     {"server", "kinto-push/" KINTO_PUSH_VERSION},
                     {"heartbeat", this->context_.config.heartbeat_s}},
                nullptr);
    this->flush();
}

template <class Stream>
void websocket_session<Stream>::history_lost() {
    this->close_with(session::close_code::going_away, "history lost; resume to resync");
}

template <class Stream>
void websocket_session<Stream>::tick(std::chrono::steady_clock::time_point now) {
    base::tick(now);
    // Before the upgrade completes there is no subscription; after the close, none is asked.
    if (open_) core_.recheck_due(session_answers::steady_ms(), this->shard_.sweep().count());
}

template <class Stream>
void websocket_session<Stream>::on_text(std::string_view text) {
    core_.receive(text);
}

template <class Stream>
void websocket_session<Stream>::on_written() {
    core_.written();
}

template <class Stream>
void websocket_session<Stream>::on_end() {
    core_.end();
}

template <class Stream>
bool websocket_session<Stream>::accepting() const {
    return core_.accepting();
}

template <class Stream>
void websocket_session<Stream>::authorize(session::subscriber_identity const& identity, std::string const& channel,
                                          decided done) {
    session_answers::authorize(this->context_, this->executor(), this->shared_from_this(), identity, channel,
                               std::move(done));
}

template <class Stream>
void websocket_session<Stream>::recheck(session::subscriber_identity const& identity, std::string const& channel,
                                        decided done) {
    session_answers::recheck(this->context_, this->executor(), this->shared_from_this(), identity, channel,
                             std::move(done));
}

template <class Stream>
std::int64_t websocket_session<Stream>::steady_ms() const {
    return session_answers::steady_ms();
}

template <class Stream>
void websocket_session<Stream>::identify(std::string const& token, identified done) {
    this->context_.access.from_auth_frame(
        token, now_s(), this->executor(),
        [self = this->shared_from_this(), done = std::move(done)](
            std::variant<session::subscriber_identity, session::credential_refusal> result) { done(std::move(result)); });
}

template <class Stream>
void websocket_session<Stream>::locate(std::string const& channel, std::int64_t timestamp, located done) {
    session_answers::locate(this->context_, this->executor(), this->shared_from_this(), channel, timestamp,
                            std::move(done));
}

template <class Stream>
void websocket_session<Stream>::read_page(std::string const& channel, std::uint64_t after, std::size_t limit,
                                          paged done) {
    // With permessage-deflate, a page read from the disk is compressed there too, off the shard.
    session_answers::read_page(this->context_, this->executor(), this->shared_from_this(), channel, after, limit,
                               this->deflating(), std::move(done));
}

template <class Stream>
void websocket_session<Stream>::watch_expiry(std::optional<std::int64_t> ends_s) {
    if (!open_) {
        expiry_before_open_ = ends_s;
        return;
    }
    if (expiry_) expiry_->cancel();
    if (!ends_s) return;
    if (!expiry_) expiry_ = std::make_unique<asio::steady_timer>(this->executor());
    expiry_->expires_after(std::chrono::seconds(std::max<std::int64_t>(0, *ends_s - now_s())));
    expiry_->async_wait([self = this->shared_from_this(), this, ends = *ends_s](beast::error_code ec) {
        if (!ec) core_.expired(ends);
    });
}

template <class Stream>
session::frame_ptr websocket_session<Stream>::reply_frame(json const& frame) {
    return this->text_frame(frame.dump());   // compressed only with permessage-deflate, from 256 bytes
}

template <class Stream>
void websocket_session<Stream>::push_event(session::send_queue& queue, channels::message_ptr const& m) {
    // The message's encoded frame, shared: no copy. With permessage-deflate, its compressed
    // frame, built once for every compressing session (none under 256 bytes: plain then).
    if (this->deflating())
        if (auto const& deflated = m->deflated(); !deflated.empty()) return void(queue.push(session::frame_ptr(m, &deflated)));
    queue.push(session::frame_ptr(m, &m->wire));
}

template <class Stream>
void websocket_session<Stream>::queued() {
    this->flush();
}

template <class Stream>
void websocket_session<Stream>::close(std::uint16_t code, std::string const& reason) {
    this->close_with(code, reason);
}

template <class Stream>
void websocket_session<Stream>::accepting_again() {
    this->resume_reading();
}

template class websocket_session<beast::tcp_stream>;
template class websocket_session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace kp::server
