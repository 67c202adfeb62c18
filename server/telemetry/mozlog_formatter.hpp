#pragma once
// spdlog formatter for MozLog, the JSON line format of Mozilla's services (Kinto, Autopush):
// {"Timestamp": <ns since the epoch>, "Type": …, "Logger": "kinto-push", "Hostname": …,
//  "EnvVersion": "2.0", "Severity": <syslog level>, "Pid": …, "Fields": {…}}.
// Events logged with log_event carry their type and fields; other messages have Type "log"
// and Fields {"msg": <text>}.

#include <spdlog/formatter.h>

#include <string>

namespace kp::server {

class mozlog_formatter : public spdlog::formatter {
public:
    mozlog_formatter();
    void format(spdlog::details::log_msg const& msg, spdlog::memory_buf_t& dest) override;
    std::unique_ptr<spdlog::formatter> clone() const override;

    // spdlog's level as a syslog severity (RFC 5424: 2 critical … 7 debug).
    static int severity(spdlog::level::level_enum level);

private:
    std::string hostname_;
    long pid_;
};

}  // namespace kp::server
