#include "server/ws/push_session.hpp"

#include "channels/json_depth.hpp"
#include "server/broadcast_service.hpp"
#include "server/ws/close_code.hpp"
#include "server/net/io_errors.hpp"
#include "store/random_hex.hpp"

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace kp::server {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using json = nlohmann::ordered_json;

namespace {

constexpr std::size_t max_json_depth = 64;
constexpr std::chrono::seconds close_grace{5};
constexpr std::string_view push_protocol = "push-notification";

// Web Push registration is not implemented here (docs/firefox.md).
constexpr int status_not_implemented = 501;

// The answer to a `{}` ping: the same frame for every connection.
push::frame_ptr const& pong() {
    static push::frame_ptr const frame = std::make_shared<std::string const>("{}");
    return frame;
}

// An object whose values are all strings (hello's and broadcast_subscribe's `broadcasts`).
bool is_version_map(json const& v) {
    if (!v.is_object()) return false;
    for (auto const& item : v)
        if (!item.is_string()) return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

template <class Stream>
bool push_session<Stream>::offers_push_protocol(std::string_view header) {
    while (!header.empty()) {
        auto comma = header.find(',');
        if (trim(header.substr(0, comma)) == push_protocol) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

template <class Stream>
push_session<Stream>::push_session(Stream&& stream, shard& owner, server_context& context,
                                   std::shared_ptr<asio::ssl::context> tls)
    : tls_(std::move(tls)),
      ws_(std::move(stream)),
      shard_(owner),
      context_(context),
      close_deadline_(ws_.get_executor()),
      uaid_(store::random_hex(16)),
      broadcasts_(context.broadcasts->registry().specs().size()) {}

template <class Stream>
push_session<Stream>::~push_session() {
    if (listed_) context_.broadcasts->table(shard_.index()).remove(this);
    if (accepted_) {
        shard_.remove_session(this);
        context_.websocket_connections.fetch_sub(1);
    }
}

template <class Stream>
void push_session<Stream>::run(beast::http::request<beast::http::string_body> request) {
    auto const& config = context_.config;
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    // As on /v1/ws: a WebSocket ping every heartbeat, a peer silent for two is dropped.
    timeouts.idle_timeout = std::chrono::seconds(2 * config.heartbeat_s);
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    // RFC 6455: echo the subprotocol when the client offers it (Firefox requires it), send
    // none otherwise.
    bool const echo = offers_push_protocol(request[beast::http::field::sec_websocket_protocol]);
    ws_.set_option(websocket::stream_base::decorator([echo](websocket::response_type& res) {
        res.set(beast::http::field::server, "kinto-push/" KINTO_PUSH_VERSION);
        if (echo) res.set(beast::http::field::sec_websocket_protocol, push_protocol);
    }));
    ws_.read_message_max(config.max_frame_bytes);
    ws_.auto_fragment(false);
    ws_.text(true);
    ws_.async_accept(request, beast::bind_front_handler(&push_session<Stream>::on_accept, shared_from_this()));
}

template <class Stream>
void push_session<Stream>::on_accept(beast::error_code ec) {
    if (ec) return log_unexpected(ec, "push accept");
    shard_.add_session(this);
    accepted_ = true;
    std::size_t const open = context_.websocket_connections.fetch_add(1) + 1;
    do_read();
    if (open > context_.config.max_connections)
        return close_with(close_code::too_many_connections, "too many connections");
    if (context_.shutting_down.load()) return close_with(close_code::going_away, "server shutting down");
    // The client speaks first: it sends hello.
}

template <class Stream>
void push_session<Stream>::shutdown() {
    close_with(close_code::going_away, "server shutting down");
}

template <class Stream>
void push_session<Stream>::do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&push_session<Stream>::on_read, shared_from_this()));
}

template <class Stream>
void push_session<Stream>::on_read(beast::error_code ec, std::size_t) {
    if (ec) {
        log_unexpected(ec, "push read");
        closing_ = true;
        return leave();
    }
    if (closing_) return;
    if (!ws_.got_text()) return close_with(close_code::protocol_violation, "binary frames are not supported");
    auto data = buffer_.cdata();
    handle_frame(std::string_view(static_cast<char const*>(data.data()), data.size()));
    buffer_.consume(buffer_.size());
    if (!closing_) do_read();
}

template <class Stream>
void push_session<Stream>::handle_frame(std::string_view text) {
    if (!channels::json_depth_within(text, max_json_depth))
        return close_with(close_code::protocol_violation, "JSON nested deeper than 64 levels");
    auto frame = json::parse(text, nullptr, false);
    if (frame.is_discarded()) return close_with(close_code::protocol_violation, "frame is not JSON");
    if (!frame.is_object()) return close_with(close_code::protocol_violation, "frame is not a JSON object");
    if (frame.empty()) return enqueue(pong());   // `{}` is Autopush's ping

    auto type = frame.find("messageType");
    if (type == frame.end() || !type->is_string())
        return close_with(close_code::protocol_violation, "messageType: is required");
    auto const& name = type->get_ref<std::string const&>();
    if (name == "ping") return enqueue(pong());
    if (name == "hello") return handle_hello(frame);
    if (!hello_) return close_with(close_code::protocol_violation, "hello: must come first");
    if (name == "broadcast_subscribe") return handle_broadcast_subscribe(frame);
    if (name == "register" || name == "unregister") {
        auto channel = frame.find("channelID");
        if (channel == frame.end() || !channel->is_string())
            return close_with(close_code::protocol_violation, "channelID: is required");
        // Nothing is ever registered here: registering is refused, and unregistering leaves
        // the channel unregistered, which is what the client asked for.
        return reply(json{{"messageType", name},
                          {"channelID", *channel},
                          {"status", name == "register" ? status_not_implemented : 200}});
    }
    if (name == "ack" || name == "nack") return;   // no notification is ever sent here
    close_with(close_code::protocol_violation, "messageType: unknown type '" + name + "'");
}

template <class Stream>
void push_session<Stream>::handle_hello(json const& frame) {
    if (hello_) return close_with(close_code::protocol_violation, "hello: sent twice");
    auto requested = frame.find("broadcasts");
    bool const has_broadcasts = requested != frame.end() && !requested->is_null();
    if (has_broadcasts && !is_version_map(*requested))
        return close_with(close_code::protocol_violation, "hello.broadcasts: must map ids to version strings");
    if (auto uaid = frame.find("uaid"); uaid != frame.end() && !uaid->is_null() && !uaid->is_string())
        return close_with(close_code::protocol_violation, "hello.uaid: must be a string");
    hello_ = true;
    // A fresh uaid per connection: no Web Push subscription is kept here (Firefox then drops
    // any it had with another push server, which could not reach it here anyway).
    json answer = has_broadcasts ? broadcasts_.subscribe(*requested, context_.broadcasts->registry())
                                 : json::object();
    if (broadcasts_.subscribed() && !listed_) {
        context_.broadcasts->table(shard_.index()).add(this);
        listed_ = true;
    }
    spdlog::debug("push session {}: hello with {} broadcasts, {} in the answer", uaid_,
                  has_broadcasts ? requested->size() : 0, answer.size());
    reply(json{{"messageType", "hello"},
               {"uaid", uaid_},
               {"status", 200},
               {"use_webpush", true},
               {"broadcasts", std::move(answer)}});
}

template <class Stream>
void push_session<Stream>::handle_broadcast_subscribe(json const& frame) {
    auto requested = frame.find("broadcasts");
    if (requested == frame.end() || !is_version_map(*requested))
        return close_with(close_code::protocol_violation,
                          "broadcast_subscribe.broadcasts: must map ids to version strings");
    json answer = broadcasts_.subscribe(*requested, context_.broadcasts->registry());
    if (broadcasts_.subscribed() && !listed_) {
        context_.broadcasts->table(shard_.index()).add(this);
        listed_ = true;
    }
    spdlog::debug("push session {}: broadcast_subscribe to {}, {} in the answer", uaid_, requested->size(),
                  answer.size());
    // As Autopush: no answer unless a version differs or an id is unknown.
    if (!answer.empty()) reply(json{{"messageType", "broadcast"}, {"broadcasts", std::move(answer)}});
}

template <class Stream>
void push_session<Stream>::send_broadcast(frame_ptr const& frame) {
    enqueue(frame);
}

template <class Stream>
void push_session<Stream>::reply(json const& frame) {
    enqueue(std::make_shared<std::string const>(frame.dump()));
}

template <class Stream>
void push_session<Stream>::enqueue(frame_ptr frame) {
    if (closing_) return;
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (queued_bytes_ > context_.config.send_queue_bytes)
        return close_with(close_code::too_slow,
                          "send queue over " + std::to_string(context_.config.send_queue_bytes) + " bytes");
    if (!writing_) do_write();
}

template <class Stream>
void push_session<Stream>::do_write() {
    writing_ = true;
    ws_.async_write(asio::buffer(*queue_.front()),
                    beast::bind_front_handler(&push_session<Stream>::on_write, shared_from_this()));
}

template <class Stream>
void push_session<Stream>::on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (!queue_.empty()) {
        queued_bytes_ -= queue_.front()->size();
        queue_.pop_front();
    }
    if (ec) {
        log_unexpected(ec, "push write");
        closing_ = true;
        return leave();
    }
    if (closing_) return;
    if (!queue_.empty()) do_write();
}

template <class Stream>
void push_session<Stream>::close_with(std::uint16_t code, std::string const& reason) {
    if (closing_) return;
    closing_ = true;
    while (queue_.size() > (writing_ ? 1u : 0u)) {
        queued_bytes_ -= queue_.back()->size();
        queue_.pop_back();
    }
    // May run inside broadcast_table::deliver: leave the table once that walk is over.
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->leave(); });
    if (!ws_.is_open()) return;
    spdlog::debug("push session {}: closing with {} ({})", uaid_, code, reason);
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                    [self = shared_from_this()](beast::error_code ec) {
                        if (ec) log_unexpected(ec, "push close");
                        self->close_deadline_.cancel();
                    });
    close_deadline_.expires_after(close_grace);
    close_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) return;
        beast::get_lowest_layer(self->ws_).close();
    });
}

template <class Stream>
void push_session<Stream>::leave() {
    if (listed_) context_.broadcasts->table(shard_.index()).remove(this);
    listed_ = false;
}

template class push_session<beast::tcp_stream>;
template class push_session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace kp::server
