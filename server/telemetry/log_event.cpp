#include "server/telemetry/log_event.hpp"

#include <spdlog/spdlog.h>

namespace kp::server {

namespace {

thread_local log_event_record const* current = nullptr;

// key=value pairs; strings with spaces, quotes or nothing are JSON-quoted.
std::string as_text(nlohmann::json const& fields) {
    std::string out;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        out += ' ';
        out += it.key();
        out += '=';
        auto const& v = *it;
        if (v.is_string()) {
            auto const& s = v.get_ref<std::string const&>();
            bool plain = !s.empty() && s.find_first_of(" \"=\n\\") == std::string::npos;
            out += plain ? s : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        } else {
            out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
    }
    return out;
}

}  // namespace

log_event_record const* current_log_event() {
    return current;
}

void log_event(spdlog::level::level_enum level, std::string_view type, nlohmann::json const& fields) {
    auto logger = spdlog::default_logger_raw();
    if (!logger->should_log(level)) return;
    log_event_record record{type, fields};
    current = &record;
    try {
        logger->log(level, "{}{}", type, as_text(fields));
    } catch (...) {
        current = nullptr;
        throw;
    }
    current = nullptr;
}

}  // namespace kp::server
