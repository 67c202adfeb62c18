#include "server/telemetry/mozlog_formatter.hpp"

#include "server/telemetry/log_event.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

#include <unistd.h>

namespace kp::server {

mozlog_formatter::mozlog_formatter() : pid_(static_cast<long>(::getpid())) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0) hostname_ = name;
}

int mozlog_formatter::severity(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::critical: return 2;
    case spdlog::level::err: return 3;
    case spdlog::level::warn: return 4;
    case spdlog::level::info: return 6;
    default: return 7;   // debug, trace
    }
}

void mozlog_formatter::format(spdlog::details::log_msg const& msg, spdlog::memory_buf_t& dest) {
    using namespace std::chrono;
    nlohmann::ordered_json line;
    line["Timestamp"] = duration_cast<nanoseconds>(msg.time.time_since_epoch()).count();
    auto const* event = current_log_event();
    line["Type"] = event ? std::string(event->type) : "log";
    line["Logger"] = "kinto-push";
    line["Hostname"] = hostname_;
    line["EnvVersion"] = "2.0";
    line["Severity"] = severity(msg.level);
    line["Pid"] = pid_;
    if (event) line["Fields"] = event->fields;
    else line["Fields"] = {{"msg", std::string(msg.payload.data(), msg.payload.size())}};
    // Client-supplied text may be invalid UTF-8: replaced, never an exception.
    auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> mozlog_formatter::clone() const {
    return std::make_unique<mozlog_formatter>(*this);
}

}  // namespace kp::server
