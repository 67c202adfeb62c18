#pragma once
// kinto-push (PROTOCOL.md v1): subscribers open /v1/ws and send one `subscribe` for
// /buckets/bench/collections/<channel> (with `since` on resume); events are Kinto record events
// POSTed to /v1/events, the bench payload inside impacted_objects[0].new, a unique record id
// per event so that the server's idempotency never merges two of them. Over Server-Sent Events
// (PROTOCOL.md section 6), GET /v1/sse?channel=<path> (with ?last_event_id=<epoch>_<offset> on
// resume): `event: subscribed` then unnamed messages whose data is the WebSocket event frame.

#include "bench/loadgen/target_protocol.hpp"

namespace kp::loadgen {

class kinto_push_protocol final : public target_protocol {
public:
    explicit kinto_push_protocol(std::string secret) : secret_(std::move(secret)) {}

    std::string name() const override { return "kinto-push"; }
    std::string subscribe_target(std::string const&) const override { return "/v1/ws"; }
    std::string subprotocol() const override { return {}; }
    std::optional<std::string> subscribe_frame(std::string const& channel,
                                               std::optional<resume_position> const& since) const override;
    bool subscribed_on_open() const override { return false; }
    publish_request publish(std::string const& channel, std::string const& payload,
                            std::string const& unique) const override;
    bool publish_accepted(unsigned status) const override { return status == 202; }
    received_frame decode(std::string_view frame) const override;
    std::string event_stream_target(std::string const& channel,
                                    std::optional<resume_position> const& since) const override;
    received_frame decode_event(std::string_view event, std::string_view data) const override;

    // The body of POST /v1/events: a Kinto record event for `channel` whose new record holds
    // `payload` (a JSON object) under "lg", its record id "r<unique>".
    static std::string event_body(std::string const& channel, std::string const& payload, std::string const& unique);

    std::string const& secret() const { return secret_; }
    static std::string channel_path(std::string const& channel) { return "/buckets/bench/collections/" + channel; }

private:
    std::string secret_;
};

}  // namespace kp::loadgen
