#pragma once
// The HTTP/1.1 client that delivers webhooks (PROTOCOL.md section 7, "Targets" and "Order and
// retries"): one per event loop, used from that loop's thread only, never blocking it and
// starting no thread of its own. Each post() resolves the target's host, refuses loopback,
// private, link-local… addresses at every new connection (webhooks/address_guard) unless
// allowed, connects (TLS verified against the system's certificates and the host name), POSTs
// and reads the answer under a size limit and a deadline. Redirects are answers like any other
// (never followed). Connections are kept alive per (scheme, host, port) in a bounded idle pool.

#include "webhooks/target_url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace kp::server {

class outbound_connection;

struct outbound_options {
    std::chrono::milliseconds connect_timeout{5000};    // resolve + TCP connect + TLS handshake
    std::chrono::milliseconds response_timeout{10000};  // from the first byte written to the whole response read
    std::size_t max_response_bytes = 64 * 1024;         // header + body; more = failure "response larger than N bytes"
    bool allow_private = false;                         // --webhook-allow-private
    std::size_t max_idle_per_host = 4;
    std::chrono::seconds idle_timeout{30};
};

struct outbound_request {
    webhooks::target_url url;
    std::string body;  // sent as application/json
    std::vector<std::pair<std::string, std::string>> headers;
};

struct outbound_result {
    unsigned status = 0;  // 0 = no HTTP answer
    std::string error;    // empty when an answer came
    std::chrono::milliseconds duration{0};
};

class outbound_client : public std::enable_shared_from_this<outbound_client> {
public:
    // `tls` null = default_tls_context(). Made with std::make_shared (posts use shared_from_this).
    outbound_client(boost::asio::any_io_executor executor, outbound_options options,
                    std::shared_ptr<boost::asio::ssl::context> tls);
    ~outbound_client();

    // TLS 1.2 or later, peers verified against the system's store (set_default_verify_paths,
    // which honours SSL_CERT_FILE and SSL_CERT_DIR).
    static std::shared_ptr<boost::asio::ssl::context> default_tls_context();

    // `done` is called exactly once, on the executor, never from inside post().
    void post(outbound_request request, std::function<void(outbound_result)> done);
    // Ends everything in flight (their done() get the error "shutdown") and closes the idle
    // connections; later posts fail with "shutdown" too.
    void shutdown();

    std::size_t idle_connections() const;

private:
    struct pending;

    void start(std::shared_ptr<pending> const& attempt, bool allow_reuse);
    void open(std::shared_ptr<pending> const& attempt);
    void connect(std::shared_ptr<pending> const& attempt, std::vector<boost::asio::ip::tcp::endpoint> endpoints);
    void send(std::shared_ptr<pending> const& attempt, std::shared_ptr<outbound_connection> const& connection);
    void finish(std::shared_ptr<pending> const& attempt, unsigned status, std::string error);
    void arm_timer(std::shared_ptr<pending> const& attempt, std::chrono::milliseconds timeout);
    std::shared_ptr<outbound_connection> take_idle(std::string const& key);
    void park(std::string const& key, std::shared_ptr<outbound_connection> const& connection);

    boost::asio::any_io_executor executor_;
    outbound_options options_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::map<std::string, std::vector<std::shared_ptr<outbound_connection>>> idle_;
    std::set<std::shared_ptr<pending>> in_flight_;
    bool shut_down_ = false;
};

}  // namespace kp::server
