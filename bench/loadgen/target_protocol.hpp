#pragma once
// How one server is spoken to: where a subscriber connects and what it sends (over WebSocket or
// Server-Sent Events), how an event is published, and what a received frame or event-stream
// message is. The rest of the load generator is server-neutral,
// so kinto-push and nchan are measured by the same code.

#include "bench/loadgen/bench_payload.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kp::loadgen {

// A kinto-push position in a channel's history (PROTOCOL.md section 3).
struct resume_position {
    std::string epoch;
    std::uint64_t offset = 0;
};

struct received_frame {
    enum class kind { other, event, subscribed, error } type = kind::other;
    bench_fields fields;                 // event: the bench payload's numbers
    std::uint64_t offset = 0;            // kinto-push event / subscribed: the offset
    std::optional<resume_position> position;   // subscribed: epoch and offset
    bool recovered = false;              // subscribed
};

struct publish_request {
    std::string target;                  // e.g. /v1/events
    std::string body;
    std::string content_type = "application/json";
    std::string authorization;           // the header's value, empty for none
};

class target_protocol {
public:
    virtual ~target_protocol() = default;
    virtual std::string name() const = 0;

    // The WebSocket upgrade's target for a subscriber of `channel`.
    virtual std::string subscribe_target(std::string const& channel) const = 0;
    // The subprotocol to offer, empty for none.
    virtual std::string subprotocol() const = 0;
    // The frame to send once open, if the protocol subscribes by message (kinto-push).
    virtual std::optional<std::string> subscribe_frame(std::string const& channel,
                                                       std::optional<resume_position> const& since) const = 0;
    // Whether a connection counts as subscribed once open (nchan) or after a `subscribed` (kinto-push).
    virtual bool subscribed_on_open() const = 0;

    // The request publishing `payload` (a bench_payload) to `channel`; `unique` differs for every event.
    virtual publish_request publish(std::string const& channel, std::string const& payload,
                                    std::string const& unique) const = 0;
    virtual bool publish_accepted(unsigned status) const = 0;

    virtual received_frame decode(std::string_view frame) const = 0;

    // Server-Sent Events: the GET's target for a subscriber of `channel` (from `since` when
    // given), and a message of the stream (its `event:` name, empty for none, and its data).
    virtual std::string event_stream_target(std::string const& channel,
                                            std::optional<resume_position> const& since) const = 0;
    virtual received_frame decode_event(std::string_view event, std::string_view data) const = 0;

    // The channel's name on this server for channel index i (c000, c001, ...).
    static std::string channel_name(std::uint32_t index);
};

}  // namespace kp::loadgen
