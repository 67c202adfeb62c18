#pragma once
// A subscriber over Server-Sent Events: one GET with `Accept: text/event-stream` to the
// protocol's event-stream target (kinto-push: /v1/sse?channel=…; nchan: its subscriber location,
// which serves EventSource natively), then the response read as it comes: the head, the body
// de-chunked if need be, the event stream parsed, and each message decoded by the protocol.
// A close is the socket's: an event stream has no closing handshake.

#include "bench/loadgen/event_stream_parser.hpp"
#include "bench/loadgen/http_stream_reader.hpp"
#include "bench/loadgen/subscriber_connection.hpp"

#include <array>

namespace kp::loadgen {

class sse_subscriber final : public subscriber_connection {
public:
    using subscriber_connection::subscriber_connection;

private:
    void start(boost::asio::ip::tcp::socket socket, std::optional<resume_position> since) override;
    void shut() override;
    void close_socket() override;
    void read_next();
    void on_bytes(std::string_view bytes);
    std::shared_ptr<sse_subscriber> self() { return std::static_pointer_cast<sse_subscriber>(shared_from_this()); }

    std::unique_ptr<boost::asio::ip::tcp::socket> socket_;
    std::string request_;
    std::array<char, 16 * 1024> in_{};
    http_stream_reader reader_;
    std::string body_;
    event_stream_parser parser_;
};

}  // namespace kp::loadgen
