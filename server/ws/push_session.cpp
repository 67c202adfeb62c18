#include "server/ws/push_session.hpp"

#include "channels/json_depth.hpp"
#include "server/broadcast_service.hpp"
#include "session/close_code.hpp"
#include "server/net/io_errors.hpp"
#include "store/random_hex.hpp"

#include "websocket/frame_encoder.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace kp::server {

namespace beast = boost::beast;
namespace close_code = session::close_code;
namespace asio = boost::asio;
using json = nlohmann::ordered_json;

namespace {

constexpr std::string_view push_protocol = "push-notification";

// Web Push registration is not implemented here (docs/firefox.md).
constexpr int status_not_implemented = 501;

// The answer to a `{}` ping: the same frame for every connection.
push::frame_ptr const& pong() {
    static push::frame_ptr const frame =
        std::make_shared<std::string const>(kp::websocket::encode_frame(kp::websocket::opcode::text, "{}"));
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
    : base(std::move(stream), owner, context, std::move(tls), "/v1/push"),
      uaid_(store::random_hex(16)),
      broadcasts_(context.broadcasts->registry().specs().size()) {}

template <class Stream>
push_session<Stream>::~push_session() {
    on_end();   // normally done already; this covers a session destroyed with its io_context
}

template <class Stream>
void push_session<Stream>::on_upgrade(request_type const& request, response_type& response,
                                      std::function<void()> proceed) {
    // RFC 6455: echo the subprotocol when the client offers it (Firefox requires it), send
    // none otherwise.
    if (offers_push_protocol(request[beast::http::field::sec_websocket_protocol]))
        response.set(beast::http::field::sec_websocket_protocol, push_protocol);
    proceed();
}

template <class Stream>
void push_session<Stream>::on_end() {
    if (listed_) this->context_.broadcasts->table(this->shard_.index()).remove(this);
    listed_ = false;
}

template <class Stream>
void push_session<Stream>::on_text(std::string_view text) {
    if (!channels::json_depth_within(text))
        return this->close_with(close_code::protocol_violation,
                                "JSON nested deeper than " + std::to_string(channels::max_json_depth) + " levels");
    auto frame = json::parse(text, nullptr, false);
    if (frame.is_discarded()) return this->close_with(close_code::protocol_violation, "frame is not JSON");
    if (!frame.is_object()) return this->close_with(close_code::protocol_violation, "frame is not a JSON object");
    if (frame.empty()) return this->send(pong(), true);   // `{}` is Autopush's ping

    auto type = frame.find("messageType");
    if (type == frame.end() || !type->is_string())
        return this->close_with(close_code::protocol_violation, "messageType: is required");
    auto const& name = type->get_ref<std::string const&>();
    if (name == "ping") return this->send(pong(), true);
    if (name == "hello") return handle_hello(frame);
    if (!hello_) return this->close_with(close_code::protocol_violation, "hello: must come first");
    if (name == "broadcast_subscribe") return handle_broadcast_subscribe(frame);
    if (name == "register" || name == "unregister") {
        auto channel = frame.find("channelID");
        if (channel == frame.end() || !channel->is_string())
            return this->close_with(close_code::protocol_violation, "channelID: is required");
        // Nothing is ever registered here: registering is refused, and unregistering leaves
        // the channel unregistered, which is what the client asked for.
        return reply(json{{"messageType", name},
                          {"channelID", *channel},
                          {"status", name == "register" ? status_not_implemented : 200}});
    }
    if (name == "ack" || name == "nack") return;   // no notification is ever sent here
    this->close_with(close_code::protocol_violation, "messageType: unknown type '" + name + "'");
}

template <class Stream>
void push_session<Stream>::handle_hello(json const& frame) {
    if (hello_) return this->close_with(close_code::protocol_violation, "hello: sent twice");
    auto requested = frame.find("broadcasts");
    bool const has_broadcasts = requested != frame.end() && !requested->is_null();
    if (has_broadcasts && !is_version_map(*requested))
        return this->close_with(close_code::protocol_violation, "hello.broadcasts: must map ids to version strings");
    if (auto uaid = frame.find("uaid"); uaid != frame.end() && !uaid->is_null() && !uaid->is_string())
        return this->close_with(close_code::protocol_violation, "hello.uaid: must be a string");
    hello_ = true;
    // A fresh uaid per connection: no Web Push subscription is kept here (Firefox then drops
    // any it had with another push server, which could not reach it here anyway).
    json answer = has_broadcasts ? broadcasts_.subscribe(*requested, this->context_.broadcasts->registry())
                                 : json::object();
    join_table();
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
        return this->close_with(close_code::protocol_violation,
                          "broadcast_subscribe.broadcasts: must map ids to version strings");
    json answer = broadcasts_.subscribe(*requested, this->context_.broadcasts->registry());
    join_table();
    spdlog::debug("push session {}: broadcast_subscribe to {}, {} in the answer", uaid_, requested->size(),
                  answer.size());
    // As Autopush: no answer unless a version differs or an id is unknown.
    if (!answer.empty()) reply(json{{"messageType", "broadcast"}, {"broadcasts", std::move(answer)}});
}

template <class Stream>
void push_session<Stream>::join_table() {
    if (!broadcasts_.subscribed() || listed_) return;
    this->context_.broadcasts->table(this->shard_.index()).add(this);
    listed_ = true;
}

template <class Stream>
void push_session<Stream>::send_broadcast(push::frame_ptr const& frame) {
    this->send(frame, true);   // a whole WebSocket frame, built once for every connection
}

template <class Stream>
void push_session<Stream>::reply(json const& frame) {
    this->send(this->text_frame(frame.dump()), true);   // compressed only with permessage-deflate, from 256 bytes
}

template class push_session<beast::tcp_stream>;
template class push_session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace kp::server
