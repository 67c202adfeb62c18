#pragma once
// What a subscription session needs from the world around it: the answers that take time
// (authorization, credentials, a timestamp's position, a replay page from disk), the format
// of its transport (a WebSocket frame, an SSE event), and the connection itself. The
// WebSocket and SSE sessions implement it over sockets; the unit tests with scripted answers.
//
// Every callback runs on the session's thread, possibly before the call returns.

#include "channels/message.hpp"
#include "session/access_decision.hpp"
#include "session/credential_refusal.hpp"
#include "session/send_queue.hpp"
#include "session/subscriber_identity.hpp"
#include "store/history_types.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kp::session {

class session_port {
public:
    using decided = std::function<void(access_decision)>;
    using identified = std::function<void(std::variant<subscriber_identity, credential_refusal>)>;
    using located = std::function<void(std::optional<store::timestamp_position>)>;
    using paged = std::function<void(std::vector<channels::message_ptr> page, bool failed)>;

    virtual ~session_port() = default;

    // May `identity` hear `channel`?
    virtual void authorize(subscriber_identity const& identity, std::string const& channel, decided done) = 0;
    // May `identity` still hear `channel`, which it was allowed? Asked again at Kinto (no cached
    // answer) when the channel was delegated to it; otherwise `allowed`. Answers never run
    // before the call returns.
    virtual void recheck(subscriber_identity const& identity, std::string const& channel, decided done) = 0;
    // Milliseconds of a monotonic clock (when rechecks fall due).
    virtual std::int64_t steady_ms() const = 0;
    // Who the token of an `auth` frame names (a JWT, or a Kinto Authorization header value).
    virtual void identify(std::string const& token, identified done) = 0;
    // The position after Kinto timestamp `timestamp` in `channel`, read off the session's
    // thread (nullopt: the store failed).
    virtual void locate(std::string const& channel, std::int64_t timestamp, located done) = 0;
    // At most `limit` stored events after `after`, read off the session's thread.
    virtual void read_page(std::string const& channel, std::uint64_t after, std::size_t limit, paged done) = 0;
    // Calls session_core::expired(ends_s) once the unix time `ends_s` has passed; nullopt
    // cancels. A later call replaces an earlier one.
    virtual void watch_expiry(std::optional<std::int64_t> ends_s) = 0;

    // A reply (a JSON object: welcome, subscribed, error, …) in the transport's format.
    virtual frame_ptr reply_frame(nlohmann::ordered_json const& frame) = 0;
    // Queues an event in the transport's format: WebSocket, the message's frame (shared by
    // every connection); SSE, its shared data lines, then the stream's position after it.
    // Called after the subscription's position moved to the event's offset.
    virtual void push_event(send_queue& queue, channels::message_ptr const& m) = 0;
    // Frames were queued: write them unless a write is in flight.
    virtual void queued() = 0;
    // The session ends the connection with `code`. The transport seals the queue and, once
    // it is safe (not inside a delivery), calls session_core::end().
    virtual void close(std::uint16_t code, std::string const& reason) = 0;
    // The session takes client frames again after it asked to stop (session_core::accepting).
    virtual void accepting_again() = 0;
};

}  // namespace kp::session
