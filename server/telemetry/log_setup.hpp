#pragma once
// The process logger: stderr, at --log-level, as text lines or MozLog JSON (--log-format).

#include <string>

namespace kp::server {

void setup_logging(std::string const& level, std::string const& format);

}  // namespace kp::server
