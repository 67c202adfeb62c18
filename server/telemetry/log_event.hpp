#pragma once
// One structured log line: a type ("publish", "websocket.close") and named fields. With
// --log-format text it reads "<type> key=value …"; with mozlog, the formatter puts the type in
// Type and the fields in Fields. Never pass a secret or a credential in the fields.

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <string_view>

namespace kp::server {

void log_event(spdlog::level::level_enum level, std::string_view type, nlohmann::json const& fields);

// The same, with the fields built only when the line is written: `fields()` returns them.
// For the hot paths (a line per publish, per connection), where building a JSON object that
// is then dropped costs more than the rest of the log call.
template <class Fields>
void log_event_lazily(spdlog::level::level_enum level, std::string_view type, Fields&& fields) {
    if (spdlog::default_logger_raw()->should_log(level)) log_event(level, type, fields());
}

// The event being logged by this thread, while spdlog formats its line (loggers are
// synchronous), or null for an ordinary message.
struct log_event_record {
    std::string_view type;
    nlohmann::json const& fields;
};
log_event_record const* current_log_event();

}  // namespace kp::server
