#pragma once
// One event of one channel as sent to clients: the frame is serialized once, as the bytes of a
// whole WebSocket frame (header included: a server frame is never masked), and shared,
// immutable, by every session that sends it. Its permessage-deflate frame is built at most
// once too, by the first session that wants it, then shared by every compressing session.

#include "store/history_types.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kp::channels {

struct message {
    message() = default;
    message(message const&) = delete;
    message& operator=(message const&) = delete;
    ~message();

    std::string channel;
    std::uint64_t offset = 0;
    std::int64_t timestamp = 0;
    std::string wire;    // the WebSocket frame header, then the JSON text below
    std::size_t header_size = 0;

private:
    mutable std::atomic<std::string const*> sse_data_{nullptr};

public:

    // {"type":"event","channel":…,"offset":…,"timestamp":…,"payload":…,…}
    std::string_view frame() const { return std::string_view(wire).substr(header_size); }

    // The event as the data line of a Server-Sent Event ("data: " + frame() + "\n"), built by
    // the first SSE stream that sends it, on whichever shard, then shared by every stream
    // (the JSON text holds no line break: one line). `self` owns this message.
    std::shared_ptr<std::string const> sse_data(std::shared_ptr<message const> const& self) const;

    // The same text as a whole compressed frame (RSV1, RFC 7692), built at the first call from
    // any thread, or empty when it goes plain (websocket::message_deflater::encode_frame).
    std::string const& deflated() const;

    // Builds the frame around a stored body ({"payload":…,"impacted_objects":…}).
    static std::shared_ptr<message const> from_record(std::string channel, std::uint64_t offset,
                                                      std::int64_t timestamp, std::string const& body);
    static std::shared_ptr<message const> from_record(store::event_record const& record) {
        return from_record(record.channel, record.offset, record.timestamp, record.body);
    }

private:
    mutable std::once_flag deflate_once_;
    mutable std::string deflated_;
};

using message_ptr = std::shared_ptr<message const>;
// The messages of one published transaction, in order: what crosses to each shard, once.
using message_batch = std::shared_ptr<std::vector<message_ptr> const>;

}  // namespace kp::channels
