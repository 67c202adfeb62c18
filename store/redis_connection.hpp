#pragma once
// One connection to Redis on an Asio event loop (plain TCP or TLS): connects, logs in, selects
// the database, then carries commands (replies come back in order, to each command's handler)
// or, once subscribed, Pub/Sub messages (to the push handler). Every member runs on the
// event loop's thread; nothing here blocks.

#include "store/redis_endpoint.hpp"
#include "store/redis_reply.hpp"
#include "store/redis_reply_reader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kp::store {

class redis_connection : public std::enable_shared_from_this<redis_connection> {
public:
    using reply_handler = std::function<void(redis_reply)>;
    using push_handler = std::function<void(redis_reply)>;
    using closed_handler = std::function<void(std::string const& why)>;

    // `tls` must outlive the connection when the endpoint is rediss://. `name` is given to
    // CLIENT SETNAME (what CLIENT LIST shows).
    redis_connection(boost::asio::io_context& io, redis_endpoint endpoint, boost::asio::ssl::context* tls,
                     std::string name, push_handler on_push, closed_handler on_closed);

    // Resolves, connects, handshakes (TLS), AUTH, SELECT, within `deadline`; `done` gets an
    // empty string on success, else why not (then the connection is closed, on_closed not called).
    void open(std::chrono::milliseconds deadline, std::function<void(std::string const&)> done);

    // Sends a command; `handler` gets its reply, or an error reply when the connection is lost
    // first. From now on after SUBSCRIBE: replies go to the push handler instead.
    void send(std::vector<std::string> const& args, reply_handler handler);
    void subscribe(std::string const& topic);

    bool is_open() const { return open_; }
    // Closes the socket; pending handlers get an error reply; on_closed is not called.
    void close();

private:
    void fail(std::string const& why);   // lost: error replies to pending handlers, on_closed
    void do_write();
    void do_read();
    void on_read(std::size_t size);
    void login(std::function<void(std::string const&)> done);
    template <class F>
    void with_stream(F&& f);

    redis_endpoint endpoint_;
    std::string name_;
    boost::asio::ip::tcp::socket socket_;
    std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer deadline_;
    push_handler on_push_;
    closed_handler on_closed_;
    redis_reply_reader reader_;
    std::array<char, 16384> buffer_{};
    std::deque<reply_handler> pending_;
    std::string outgoing_;   // commands waiting for the write in flight
    std::string writing_;
    bool write_in_flight_ = false;
    bool subscribed_ = false;
    bool open_ = false;
    bool closed_ = false;
};

}  // namespace kp::store
