#pragma once
// One keep-alive HTTP/1.1 connection that publishes events, one request at a time. It
// (re)connects when needed, from its loopback source address; a request that fails (reset,
// timeout, closed) is reported with status 0 and is not retried.

#include "bench/loadgen/http_base_url.hpp"
#include "bench/loadgen/target_protocol.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>

namespace kp::loadgen {

class publisher_connection : public std::enable_shared_from_this<publisher_connection> {
public:
    using handler = std::function<void(unsigned status)>;

    publisher_connection(boost::asio::io_context& io, http_base_url const& url, boost::asio::ip::address_v4 source);

    // One request; `done(status)` with the HTTP status, or 0 when it failed.
    void send(publish_request const& r, handler done);
    bool busy() const { return busy_; }

private:
    void write();
    void fail();

    boost::asio::io_context& io_;
    http_base_url const& url_;
    boost::asio::ip::address_v4 source_;
    std::unique_ptr<boost::beast::tcp_stream> stream_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request<boost::beast::http::string_body> request_;
    boost::beast::http::response<boost::beast::http::string_body> response_;
    handler done_;
    bool busy_ = false;
};

}  // namespace kp::loadgen
