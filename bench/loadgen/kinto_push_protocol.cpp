#include "bench/loadgen/kinto_push_protocol.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>

namespace kp::loadgen {

std::optional<std::string> kinto_push_protocol::subscribe_frame(std::string const& channel,
                                                                std::optional<resume_position> const& since) const {
    nlohmann::json frame{{"type", "subscribe"}, {"id", "1"}, {"channel", channel_path(channel)}};
    if (since) frame["since"] = {{"epoch", since->epoch}, {"offset", since->offset}};
    return frame.dump();
}

std::string kinto_push_protocol::event_body(std::string const& channel, std::string const& payload,
                                            std::string const& unique) {
    auto const now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::string const ts = std::to_string(now_ms);
    std::string const rid = "r" + unique;
    std::string body;
    body.reserve(payload.size() + 400);
    body += R"({"payload":{"timestamp":)" + ts + R"(,"action":"update","uri":"/buckets/bench/collections/)" +
            channel + "/records/" + rid + R"(","user_id":"bench","resource_name":"record","bucket_id":"bench",)" +
            R"("collection_id":")" + channel + R"(","record_id":")" + rid + R"("},"impacted_objects":[{"new":{"id":")" +
            rid + R"(","last_modified":)" + ts + R"(,"lg":)";
    body += payload;
    body += "}}]}";
    return body;
}

publish_request kinto_push_protocol::publish(std::string const& channel, std::string const& payload,
                                             std::string const& unique) const {
    publish_request r;
    r.target = "/v1/events";
    r.body = event_body(channel, payload, unique);
    if (!secret_.empty()) r.authorization = "Bearer " + secret_;
    return r;
}

std::string kinto_push_protocol::event_stream_target(std::string const& channel,
                                                     std::optional<resume_position> const& since) const {
    std::string target = "/v1/sse?channel=" + channel_path(channel);
    if (since) target += "&last_event_id=" + since->epoch + "_" + std::to_string(since->offset);
    return target;
}

received_frame kinto_push_protocol::decode_event(std::string_view event, std::string_view data) const {
    if (event.empty()) return decode(data);   // the event frame, as over WebSocket
    received_frame f;
    if (event == "error") {
        f.type = received_frame::kind::error;
        return f;
    }
    if (event != "subscribed") return f;
    auto const j = nlohmann::json::parse(data, nullptr, false);
    if (!j.is_object()) return f;
    f.type = received_frame::kind::subscribed;
    f.offset = j.value("offset", std::uint64_t{0});
    f.position = resume_position{j.value("epoch", ""), f.offset};
    f.recovered = j.value("recovered", false);
    return f;
}

received_frame kinto_push_protocol::decode(std::string_view frame) const {
    received_frame f;
    static constexpr std::string_view event_prefix = R"({"type":"event",)";
    if (frame.starts_with(event_prefix)) {
        f.type = received_frame::kind::event;
        static constexpr char key[] = R"("offset":)";
        if (auto const* hit = static_cast<char const*>(memmem(frame.data(), frame.size(), key, sizeof key - 1))) {
            char const* p = hit + sizeof key - 1;
            char const* const end = frame.data() + frame.size();
            while (p < end && *p >= '0' && *p <= '9') f.offset = f.offset * 10 + static_cast<std::uint64_t>(*p++ - '0');
        }
        bench_payload::scan(frame, f.fields);
        return f;
    }
    // Replies are rare (one per subscription): parse them properly.
    auto const j = nlohmann::json::parse(frame, nullptr, false);
    if (!j.is_object()) return f;
    auto const type = j.value("type", "");
    if (type == "subscribed") {
        f.type = received_frame::kind::subscribed;
        f.offset = j.value("offset", std::uint64_t{0});
        f.position = resume_position{j.value("epoch", ""), f.offset};
        f.recovered = j.value("recovered", false);
    } else if (type == "error") {
        f.type = received_frame::kind::error;
    }
    return f;
}

}  // namespace kp::loadgen
