#include "clients/cli/tail_protocol.hpp"

#include "clients/cli/exit_codes.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace kp::cli {

namespace {

using json = nlohmann::json;

std::optional<std::string> string_field(json const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

std::optional<std::uint64_t> unsigned_field(json const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<std::uint64_t>();
}

std::optional<std::int64_t> integer_field(json const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
}

// The id of a frame as the server echoes it: a string, or an integer.
std::string id_of(json const& frame) {
    auto it = frame.find("id");
    if (it == frame.end()) return {};
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return it->dump();
    return {};
}

// Where a client that lost events refetches them from Kinto.
std::string kinto_since_hint(std::string const& channel, std::optional<std::int64_t> timestamp) {
    if (!timestamp) return "the last timestamp is unknown (no event was handled yet): refetch everything from Kinto";
    std::string since = std::to_string(*timestamp);
    if (channel.find("/collections/") != std::string::npos)
        return "last timestamp " + since + ": refetch from Kinto with GET /v1" + channel + "/records?_since=" + since;
    return "last timestamp " + since + ": refetch from Kinto each collection's GET …/records?_since=" + since;
}

}  // namespace

tail_protocol::tail_protocol(tail_options const& options, position_store::positions saved, tail_protocol_port& port)
    : channels_(options.channels),
      url_(options.url.str()),
      has_token_(options.token.has_value()),
      port_(port),
      positions_(std::move(saved)) {}

void tail_protocol::connected() {
    welcomed_ = false;
    subscriptions_.clear();
}

void tail_protocol::disconnected() {
    subscriptions_.clear();
}

void tail_protocol::receive(std::string text) {
    auto frame = json::parse(text, nullptr, false);
    auto type = frame.is_object() ? string_field(frame, "type") : std::nullopt;
    if (!type)
        return port_.fatal(exit_codes::protocol, "the server sent a frame that is not a JSON object with a type", 1002);
    if (*type == "event") return on_event(frame, std::move(text));
    if (*type == "welcome") return on_welcome(frame);
    if (*type == "subscribed") return on_subscribed(frame);
    if (*type == "error") return on_error(frame);
    // pong, unsubscribed, authenticated, and types of later versions: nothing to do.
}

void tail_protocol::on_welcome(json const& frame) {
    welcomed_ = true;
    std::uint64_t heartbeat = unsigned_field(frame, "heartbeat").value_or(25);
    if (heartbeat == 0 || heartbeat > 3600) heartbeat = 25;
    // The server pings every `heartbeat` s: silence for two intervals means a dead connection.
    port_.welcomed(std::chrono::seconds(2 * heartbeat + 5));
    port_.note("connected to " + url_ + " (session " + string_field(frame, "session").value_or("?") + ", " +
               string_field(frame, "server").value_or("unknown server") + ")");
    for (auto const& channel : channels_) subscribe(channel);
}

void tail_protocol::subscribe(std::string const& channel) {
    std::string id = std::to_string(next_id_++);
    json frame = {{"type", "subscribe"}, {"id", id}, {"channel", channel}};
    if (auto it = positions_.find(channel); it != positions_.end())
        frame["since"] = {{"epoch", it->second.epoch}, {"offset", it->second.offset}};
    subscriptions_[channel] = subscription{id, false, {}, 0};
    port_.send(frame.dump());
}

void tail_protocol::on_subscribed(json const& frame) {
    auto channel = string_field(frame, "channel");
    if (!channel) return;
    auto sub = subscriptions_.find(*channel);
    if (sub == subscriptions_.end() || sub->second.request_id.empty() || sub->second.request_id != id_of(frame)) return;
    auto epoch = string_field(frame, "epoch");
    auto head = unsigned_field(frame, "offset");
    auto recovered = frame.find("recovered");
    if (!epoch || epoch->empty() || !head || recovered == frame.end() || !recovered->is_boolean())
        return port_.fatal(exit_codes::protocol, "the server sent a malformed subscribed frame for " + *channel, 1002);

    port_.subscribed();
    subscription& s = sub->second;
    s.request_id.clear();
    s.active = true;
    s.epoch = *epoch;
    std::string at = "offset " + std::to_string(*head) + ", epoch " + *epoch;
    auto saved = positions_.find(*channel);
    if (saved == positions_.end()) {
        s.last_offset = *head;
        positions_[*channel] = position{*epoch, *head, std::nullopt};
        port_.save();
        return port_.note("subscribed to " + *channel + " at " + at + " (no saved position: live events only)");
    }
    if (recovered->get<bool>()) {
        s.last_offset = saved->second.offset;
        std::uint64_t replay = *head > saved->second.offset ? *head - saved->second.offset : 0;
        port_.note("subscribed to " + *channel + " at " + at + ", recovered: true (resuming after offset " +
                   std::to_string(saved->second.offset) + ", " + std::to_string(replay) + " events to replay)");
        return;
    }
    // The history no longer covers our position: say what to refetch, then carry on from the
    // head, which becomes the saved position.
    position lost = saved->second;
    s.last_offset = *head;
    positions_[*channel] = position{*epoch, *head, lost.timestamp};
    port_.save();
    port_.note("subscribed to " + *channel + " at " + at + ", recovered: false");
    port_.note("RESYNC NEEDED on " + *channel + ": the server no longer has the events after offset " +
               std::to_string(lost.offset) + " (epoch " + lost.epoch + "); " +
               kinto_since_hint(*channel, lost.timestamp) + "; tail carries on from offset " + std::to_string(*head));
}

void tail_protocol::on_event(json const& frame, std::string text) {
    auto channel = string_field(frame, "channel");
    if (!channel) return;
    auto sub = subscriptions_.find(*channel);
    if (sub == subscriptions_.end() || !sub->second.active) return;
    auto offset = unsigned_field(frame, "offset");
    if (!offset)
        return port_.fatal(exit_codes::protocol, "the server sent an event without an offset on " + *channel, 1002);
    subscription& s = sub->second;
    if (*offset <= s.last_offset) return;   // already taken
    if (*offset != s.last_offset + 1)
        port_.note("warning: " + *channel + " jumped from offset " + std::to_string(s.last_offset) + " to " +
                   std::to_string(*offset) + " (the server lost events?)");
    s.last_offset = *offset;

    event_runner::event e;
    e.channel = *channel;
    e.epoch = s.epoch;
    e.offset = *offset;
    e.timestamp = integer_field(frame, "timestamp");
    if (auto payload = frame.find("payload"); payload != frame.end() && payload->is_object()) {
        e.action = string_field(*payload, "action").value_or("");
        e.uri = string_field(*payload, "uri").value_or("");
    }
    e.frame = std::move(text);
    port_.take(std::move(e));
}

void tail_protocol::on_error(json const& frame) {
    std::string code = string_field(frame, "code").value_or("?");
    std::string message = string_field(frame, "message").value_or("");
    std::string id = id_of(frame);
    std::string channel;
    for (auto const& [name, sub] : subscriptions_)
        if (!id.empty() && sub.request_id == id) channel = name;
    if (channel.empty()) return port_.note("the server reported an error: " + code + ": " + message);

    subscriptions_[channel].request_id.clear();
    std::string what = "subscribe to " + channel + " refused: " + code + (message.empty() ? "" : ": " + message);
    if (code == "unauthorized" || code == "forbidden")
        return port_.fatal(exit_codes::auth, what + (has_token_ ? "" : " (no --token given)"), 1000);
    if (code == "unavailable" || code == "internal") return port_.retry_subscribe(channel, what);
    if (code == "too_many_subscriptions") return port_.fatal(exit_codes::failure, what, 1000);
    port_.fatal(exit_codes::protocol, what, 1000);
}

void tail_protocol::handled(event_runner::event const& e) {
    position& p = positions_[e.channel];
    p.epoch = e.epoch;
    p.offset = e.offset;
    if (e.timestamp) p.timestamp = e.timestamp;
}

}  // namespace kp::cli
