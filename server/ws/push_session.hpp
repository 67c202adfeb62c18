#pragma once
// One Autopush client on /v1/push (docs/firefox.md): the broadcast part of Mozilla's push
// protocol, as Firefox speaks it with the `push-notification` subprotocol. hello, `{}`
// pings, broadcast_subscribe and broadcasts are served; Web Push registration is refused
// politely (register gets status 501) and the connection stays up. Runs on the same
// WebSocket connection as /v1/ws (websocket_connection): one send queue, one close path, one
// connection cap. Lives on one shard.

#include "push/broadcast_subscriber.hpp"
#include "push/client_broadcasts.hpp"
#include "server/ws/websocket_connection.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace kp::server {

template <class Stream>
class push_session final : public websocket_connection<Stream>, public push::broadcast_subscriber {
public:
    push_session(Stream&& stream, shard& owner, server_context& context,
                 std::shared_ptr<boost::asio::ssl::context> tls = {});
    ~push_session() override;

    push::client_broadcasts& broadcasts() override { return broadcasts_; }
    void send_broadcast(push::frame_ptr const& frame) override;

    // True when a Sec-WebSocket-Protocol value offers `push-notification`.
    static bool offers_push_protocol(std::string_view header);

private:
    using base = websocket_connection<Stream>;
    using typename base::request_type;
    using typename base::response_type;

    void on_upgrade(request_type const& request, response_type& response, std::function<void()> proceed) override;
    void on_open() override {}   // the client speaks first: it sends hello
    void on_text(std::string_view text) override;
    void on_end() override;

    void handle_hello(nlohmann::ordered_json const& frame);
    void handle_broadcast_subscribe(nlohmann::ordered_json const& frame);
    void reply(nlohmann::ordered_json const& frame);
    void join_table();

    std::string uaid_;
    push::client_broadcasts broadcasts_;
    bool hello_ = false;    // the client's hello was answered
    bool listed_ = false;   // in the shard's broadcast table
};

}  // namespace kp::server
