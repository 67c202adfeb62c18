#pragma once
// A subscriber over WebSocket: the upgrade to the protocol's target (with its subprotocol),
// the subscribe frame if the protocol sends one, then every message read and decoded. With
// `deflate` it offers permessage-deflate (RFC 7692) as browsers do, asking both sides not to
// keep a context between messages, and inflates the compressed (RSV1) messages it receives
// (Beast's inflater, zlib's algorithm); whether the server accepted is counted per connection.

#include "bench/loadgen/subscriber_connection.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace kp::loadgen {

class ws_subscriber final : public subscriber_connection {
public:
    // The offer sent when `deflate` (the extension's parameters as kinto-push answers them).
    static constexpr char const* deflate_offer =
        "permessage-deflate; client_no_context_takeover; server_no_context_takeover";

    ws_subscriber(boost::asio::io_context& io, plan p, target_protocol const& protocol, http_base_url const& url,
                  subscriber_stats& stats, bool deflate)
        : subscriber_connection(io, std::move(p), protocol, url, stats), deflate_(deflate) {}

private:
    using websocket_stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;

    void start(boost::asio::ip::tcp::socket socket, std::optional<resume_position> since) override;
    void shut() override;
    void close_socket() override;
    void read_next();
    std::shared_ptr<ws_subscriber> self() { return std::static_pointer_cast<ws_subscriber>(shared_from_this()); }

    bool deflate_;
    std::unique_ptr<websocket_stream> ws_;
    boost::beast::websocket::response_type upgrade_;
    boost::beast::flat_buffer buffer_;
    std::string outgoing_;
};

}  // namespace kp::loadgen
