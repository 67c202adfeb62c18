#include "server/net/io_errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <spdlog/spdlog.h>

namespace kp::server {

bool is_expected_disconnect(boost::beast::error_code const& ec) {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    return ec == asio::error::operation_aborted || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::not_connected || ec == asio::error::bad_descriptor ||
           ec == beast::error::timeout || ec == beast::websocket::error::closed ||
           ec == beast::http::error::end_of_stream || ec == beast::http::error::partial_message ||
           // Peers that break the WebSocket protocol (too big, bad UTF-8, bad frames) were
           // answered with their close code; one log line each would let a client flood the log.
           ec.category() == beast::websocket::make_error_code(beast::websocket::error::closed).category();
}

void log_unexpected(boost::beast::error_code const& ec, char const* what) {
    if (is_expected_disconnect(ec)) spdlog::debug("{}: {}", what, ec.message());
    else spdlog::warn("{}: {}", what, ec.message());
}

}  // namespace kp::server
