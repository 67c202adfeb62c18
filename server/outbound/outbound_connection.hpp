#pragma once
// One connection of the webhook client (outbound_client) to a (scheme, host, port): plain TCP
// or TLS over TCP, connected to the first endpoint that answers, then used for one HTTP/1.1
// exchange at a time and kept for the next while the peer allows it. Timeouts are the
// caller's: it closes the connection, which ends whatever is pending with an error.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace kp::server {

class outbound_connection : public std::enable_shared_from_this<outbound_connection> {
public:
    struct exchange_result {
        unsigned status = 0;            // 0 = no complete HTTP answer
        std::string error;              // empty when an answer came
        bool nothing_received = false;  // failed before any byte of a response arrived
        bool reusable = false;          // the answer allows another request on this connection
    };

    using connect_handler = std::function<void(std::string error)>;
    using exchange_handler = std::function<void(exchange_result)>;

    // `tls` null = plain TCP. `host` is the name for SNI and certificate verification.
    outbound_connection(boost::asio::any_io_executor executor, std::shared_ptr<boost::asio::ssl::context> tls,
                        std::string host);

    // Connects to the first of `endpoints` that accepts, then the TLS handshake.
    void connect(std::vector<boost::asio::ip::tcp::endpoint> endpoints, connect_handler done);
    // Writes `request` and reads its response, at most `max_response_bytes` (header + body).
    void exchange(boost::beast::http::request<boost::beast::http::string_body> const& request,
                  std::size_t max_response_bytes, exchange_handler done);
    // Ends every pending operation with an error; the connection cannot be used again.
    void close();
    bool is_open() const;

    // Idle in a pool: `expired` is called once after `timeout` unless unpark() comes first.
    void park(std::chrono::steady_clock::duration timeout, std::function<void()> expired);
    void unpark();

private:
    using plain_stream = boost::beast::tcp_stream;
    using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

    boost::beast::tcp_stream& tcp();
    void handshake(connect_handler done);
    void read_response(std::size_t max_response_bytes, exchange_handler done);
    exchange_result read_failure(boost::beast::error_code const& ec, std::size_t max_response_bytes) const;

    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::string host_;
    std::variant<plain_stream, tls_stream> stream_;
    boost::asio::steady_timer idle_timer_;
    unsigned park_generation_ = 0;
    boost::beast::flat_buffer buffer_;
    std::shared_ptr<boost::beast::http::request<boost::beast::http::string_body>> request_;
    std::unique_ptr<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
    bool closed_ = false;
};

}  // namespace kp::server
