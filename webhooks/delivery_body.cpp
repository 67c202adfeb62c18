#include "webhooks/delivery_body.hpp"

#include "channels/json_string.hpp"

#include <chrono>
#include <cstdio>

namespace kp::webhooks {

std::string iso8601_utc(std::int64_t unix_ms) {
    using namespace std::chrono;
    sys_time<milliseconds> const t{milliseconds(unix_ms)};
    auto const day = floor<days>(t);
    year_month_day const date{day};
    hh_mm_ss<milliseconds> const time{t - day};
    char text[48];
    int const n = std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                                static_cast<int>(time.seconds().count()),
                                static_cast<int>(time.subseconds().count()));
    return std::string(text, n > 0 ? static_cast<std::size_t>(n) : 0);
}

namespace {

std::string head(std::string_view type, std::int64_t now_ms, std::size_t data_size) {
    std::string out;
    out.reserve(64 + data_size);
    out += R"({"type":")";
    out += type;
    out += R"(","timestamp":")";
    out += iso8601_utc(now_ms);
    out += R"(","data":)";
    return out;
}

}  // namespace

std::string event_body(std::string_view event_frame, std::int64_t now_ms) {
    std::string out = head("kinto.event", now_ms, event_frame.size());
    out += event_frame;
    out += '}';
    return out;
}

std::string batch_body(std::span<std::string_view const> frames, std::int64_t now_ms) {
    std::size_t size = frames.size() + 2;
    for (auto frame : frames)
        size += frame.size();
    std::string out = head("kinto.events", now_ms, size);
    out += '[';
    for (std::size_t i = 0; i < frames.size(); ++i) {
        if (i > 0) out += ',';
        out += frames[i];
    }
    out += "]}";
    return out;
}

std::string resync_body(std::string_view channel, std::int64_t last_timestamp, std::int64_t now_ms) {
    std::string out = head("kinto.resync", now_ms, channel.size() + 48);
    out += R"({"channel":)";
    channels::append_json_string(out, channel);
    out += R"(,"timestamp":)";
    out += std::to_string(last_timestamp);
    out += "}}";
    return out;
}

}  // namespace kp::webhooks
