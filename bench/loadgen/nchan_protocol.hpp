#pragma once
// nchan (nginx pub/sub module): a subscriber opens ws://HOST/sub/<channel> with the
// subprotocol ws+meta.nchan (each frame is "id: …\ncontent-type: …\n\n<message>"); the URL is
// the subscription. Publishing is POST /pub/<channel> with the message as the body. Over
// Server-Sent Events, the same location answers GET with `Accept: text/event-stream` (nchan's
// EventSource subscriber): each message `id: …` and `data: <message>`.
// `kinto_shaped`: the body published is the Kinto record event kinto-push is sent (the payload
// inside), so that both servers carry messages of the same size and content (--payload typical
// or large); otherwise the bare bench payload.

#include "bench/loadgen/target_protocol.hpp"

namespace kp::loadgen {

class nchan_protocol final : public target_protocol {
public:
    explicit nchan_protocol(bool kinto_shaped = false) : kinto_shaped_(kinto_shaped) {}

    std::string name() const override { return "nchan"; }
    std::string subscribe_target(std::string const& channel) const override { return "/sub/" + channel; }
    std::string subprotocol() const override { return "ws+meta.nchan"; }
    std::optional<std::string> subscribe_frame(std::string const&,
                                               std::optional<resume_position> const&) const override {
        return std::nullopt;
    }
    bool subscribed_on_open() const override { return true; }
    publish_request publish(std::string const& channel, std::string const& payload,
                            std::string const& unique) const override;
    // 201: the message was stored (and sent to the subscribers present); 202: queued, none present
    bool publish_accepted(unsigned status) const override { return status == 201 || status == 202; }
    received_frame decode(std::string_view frame) const override;
    std::string event_stream_target(std::string const& channel,
                                    std::optional<resume_position> const&) const override {
        return subscribe_target(channel);
    }
    received_frame decode_event(std::string_view event, std::string_view data) const override;

private:
    bool kinto_shaped_;
};

}  // namespace kp::loadgen
