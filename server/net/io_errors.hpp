#pragma once
// The one place that decides which I/O errors are worth a log line: peers that go away,
// time out or are closed on purpose are ordinary.

#include <boost/beast/core/error.hpp>

namespace kp::server {

bool is_expected_disconnect(boost::beast::error_code const& ec);
// Logs `ec` at debug level when expected, at warn otherwise.
void log_unexpected(boost::beast::error_code const& ec, char const* what);

}  // namespace kp::server
