#pragma once
// Opens WebSocket connections to one server: resolves the host, connects, does TLS for wss
// (SNI, certificate chain and host name checks) and the upgrade, each step with a deadline.
// The only Beast translation unit of the client.

#include "clients/cli/ws_connection.hpp"
#include "clients/cli/ws_url.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kp::cli {

class ws_dialer {
public:
    struct failure {
        std::string message;
        int http_status = 0;      // the status of a refused upgrade, otherwise 0
        bool permanent = false;   // retrying unchanged cannot help (certificate, refused upgrade)
    };
    // Either a connection, or why there is none.
    using handler = std::function<void(std::shared_ptr<ws_connection>, failure)>;

    struct settings {
        ws_url url;
        std::optional<std::string> authorization;   // the Authorization header's value
        std::optional<std::string> ca_file;
        bool insecure = false;
        std::string user_agent;
    };

    // Throws std::runtime_error (at start-up only) when the TLS settings cannot be loaded.
    ws_dialer(boost::asio::io_context& io, settings s);
    ~ws_dialer();

    // One attempt; `done` runs once, on the io_context's thread.
    void dial(handler done);
    // Aborts the attempt in progress (its handler still runs, with a failure).
    void cancel();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace kp::cli
