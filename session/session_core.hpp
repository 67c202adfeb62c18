#pragma once
// The subscription protocol of one connection (PROTOCOL.md section 3), without a socket: the
// requests in arrival order, the identity and its expiry, authorization, the resume plan of
// each subscription, and the frames that answer them. Every transport that carries
// subscriptions drives one (WebSocket's frames, SSE's URL); it queues its frames on the
// connection's send_queue and asks its session_port for what takes time.
//
// Order: requests are handled one after the other. A request whose effect waits for an
// answer (Kinto, a key, the disk) holds back every later one until its reply is queued, so
// `auth` then `subscribe` sent back to back is judged with the new identity. Requests that
// arrive meanwhile wait in order; past max_waiting of them the transport stops reading.
//
// Runs on its connection's thread only.

#include "channels/channel_hub.hpp"
#include "channels/subscriber.hpp"
#include "channels/subscriber_table.hpp"
#include "session/client_frame.hpp"
#include "session/send_queue.hpp"
#include "session/session_metrics.hpp"
#include "session/recheck_schedule.hpp"
#include "session/session_port.hpp"
#include "session/subscriber_identity.hpp"
#include "session/subscription_set.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kp::session {

struct session_settings {
    std::size_t max_subscriptions = 100;
    // No subscriber authentication is configured: `auth` frames are refused.
    bool development_mode = false;
    // Requests waiting behind one in progress before the transport stops reading.
    std::size_t max_waiting = 64;
    // Kinto is asked again about each subscription this often (--kinto-recheck); 0: never.
    std::int64_t recheck_ms = 0;
};

class session_core : public channels::subscriber {
public:
    session_core(session_settings settings, channels::channel_hub& hub, channels::subscriber_table& table,
                 send_queue& queue, session_port& port, session_metrics const& metrics);
    session_core(session_core const&) = delete;
    session_core& operator=(session_core const&) = delete;

    // Credentials that came with the connection (an upgrade, a URL), before any request.
    void set_identity(subscriber_identity identity);
    subscriber_identity const& identity() const { return identity_; }

    // A client's text frame: parsed, then handled in arrival order.
    void receive(std::string_view text);
    // A request that did not come as a frame (an SSE URL's channels): handled in order too.
    void submit(client_frame::parsed request);
    // False while too many requests wait: the transport stops reading until accepting_again().
    bool accepting() const { return !waiting_ || waiting_->size() < settings_.max_waiting; }

    // A published message for this connection's shard (channels::subscriber).
    void deliver(channels::message_ptr const& m, std::uint64_t batch) override;
    // The send queue finished a write: the replay goes on.
    void written();
    // The identity's deadline (session_port::watch_expiry) has passed.
    void expired(std::int64_t ends_s);
    // The transport's periodic look (the shard's sweep), `lead_ms` before the next one: asks
    // again about the subscriptions due by then (recheck_schedule). A channel no longer
    // allowed gets `unsubscribed` with reason `forbidden`; credentials refused close with 4001.
    void recheck_due(std::int64_t now_ms, std::int64_t lead_ms);

    // Queues a frame of the session's own (welcome). `id` null: no id member.
    void reply(nlohmann::ordered_json frame, nlohmann::ordered_json const& id);

    // The connection is closing: leave every channel; later inputs and answers are ignored.
    // Call it outside a delivery (subscriber_table::deliver walks the table).
    void end();
    bool ended() const { return ended_; }

    subscription_set const& subscriptions() const { return subscriptions_; }

private:
    void next();
    void handle(client_frame::parsed& request);
    void handle_subscribe(client_frame::subscribe request);
    void on_authorized(client_frame::subscribe const& request, access_decision decision);
    void start_subscription(client_frame::subscribe const& request,
                            std::optional<store::timestamp_position> located);
    void handle_unsubscribe(client_frame::unsubscribe const& request);
    void handle_auth(client_frame::auth const& request);
    void on_rechecked(recheck_schedule::question const& q, std::optional<std::string> const& credential,
                      access_decision decision);
    void on_identified(nlohmann::ordered_json const& id, std::variant<subscriber_identity, credential_refusal> result);
    void reply_error(nlohmann::ordered_json const& id, char const* code, std::string const& message);
    // The request in progress is done: the next one may start.
    void done();
    void close(std::uint16_t code, std::string const& reason);

    session_settings settings_;
    channels::channel_hub& hub_;
    send_queue& queue_;
    session_port& port_;
    session_metrics const& metrics_;
    subscription_set subscriptions_;
    subscriber_identity identity_;
    recheck_schedule recheck_;
    // Requests that arrived while another waited for its answer, in order: made when one has
    // to wait and released once all are handled, so that an idle connection holds nothing here.
    std::unique_ptr<std::deque<client_frame::parsed>> waiting_;
    bool busy_ = false;      // a request waits for an answer
    bool in_next_ = false;   // next() is running (an answer may come before the call returns)
    bool ended_ = false;
};

}  // namespace kp::session
