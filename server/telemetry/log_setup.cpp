#include "server/telemetry/log_setup.hpp"

#include "server/telemetry/mozlog_formatter.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace kp::server {

void setup_logging(std::string const& level, std::string const& format) {
    std::shared_ptr<spdlog::logger> logger;
    if (format == "mozlog") {
        // Plain sink: colour codes would break the JSON.
        logger = spdlog::stderr_logger_mt("kinto-push");
        logger->set_formatter(std::make_unique<mozlog_formatter>());
    } else {
        logger = spdlog::stderr_color_mt("kinto-push");
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    }
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace kp::server
