#pragma once
// One structured log line: a type ("publish", "websocket.close") and named fields. With
// --log-format text it reads "<type> key=value …"; with mozlog, the formatter puts the type in
// Type and the fields in Fields. Never pass a secret or a credential in the fields.

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include <string_view>

namespace kp::server {

void log_event(spdlog::level::level_enum level, std::string_view type, nlohmann::json const& fields);

// The event being logged by this thread, while spdlog formats its line (loggers are
// synchronous), or null for an ordinary message.
struct log_event_record {
    std::string_view type;
    nlohmann::json const& fields;
};
log_event_record const* current_log_event();

}  // namespace kp::server
