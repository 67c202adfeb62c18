#include "session/client_frame.hpp"

#include "channels/json_depth.hpp"

#include <limits>

namespace kp::session::client_frame {

namespace {

using json = nlohmann::ordered_json;

// A JSON integer in [0, max]: nlohmann keeps non-negative literals as unsigned and negative
// ones as signed, so both kinds are checked.
bool is_unsigned_up_to(json const& v, std::uint64_t max) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= max;
    return v.is_number_integer() && v.get<std::int64_t>() >= 0 &&
           static_cast<std::uint64_t>(v.get<std::int64_t>()) <= max;
}

bad_request error(json const& id, std::string message) {
    return bad_request{id, "bad_request", std::move(message)};
}

parsed parse_subscribe(json const& frame, json const& id) {
    auto it = frame.find("channel");
    if (it == frame.end() || !it->is_string()) return error(id, "channel: is required");
    auto channel = channels::channel_name::parse(it->get_ref<std::string const&>());
    if (!channel) return error(id, "channel: not a channel name (" + std::string(channels::channel_name::grammar) + ")");
    subscribe out{id, channel->str(), channel->type(), std::nullopt, std::nullopt};

    auto since = frame.find("since");
    if (since == frame.end() || since->is_null()) return out;
    if (!since->is_object()) return error(id, "since: must be an object");
    if (auto ts = since->find("timestamp"); ts != since->end()) {
        // Kinto timestamps are signed 64-bit milliseconds: a larger number is not one.
        if (!is_unsigned_up_to(*ts, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())))
            return error(id, "since.timestamp: must be a non-negative integer");
        if (channel->type() != channels::channel_name::kind::collection)
            return error(id, "since.timestamp: only on collection channels");
        out.since_timestamp = static_cast<std::int64_t>(ts->get<std::uint64_t>());
        return out;
    }
    auto epoch = since->find("epoch");
    auto offset = since->find("offset");
    if (epoch == since->end() || !epoch->is_string()) return error(id, "since.epoch: is required (a string)");
    if (offset == since->end() || !is_unsigned_up_to(*offset, std::numeric_limits<std::uint64_t>::max()))
        return error(id, "since.offset: must be a non-negative integer");
    out.since_position = channels::since_position{epoch->get<std::string>(), offset->get<std::uint64_t>()};
    return out;
}

}  // namespace

parsed parse(std::string_view text) {
    if (!channels::json_depth_within(text))
        return protocol_violation{"JSON nested deeper than " + std::to_string(channels::max_json_depth) + " levels"};
    auto frame = json::parse(text, nullptr, false);
    if (frame.is_discarded()) return protocol_violation{"frame is not JSON"};
    if (!frame.is_object()) return protocol_violation{"frame is not a JSON object"};

    json id;
    if (auto it = frame.find("id"); it != frame.end()) {
        if (!it->is_string() && !it->is_number_integer()) return error(nullptr, "id: must be a string or an integer");
        id = *it;
    }
    auto type = frame.find("type");
    if (type == frame.end() || !type->is_string()) return error(id, "type: is required");
    auto const& name = type->get_ref<std::string const&>();
    if (name == "subscribe") return parse_subscribe(frame, id);
    if (name == "unsubscribe") {
        auto it = frame.find("channel");
        if (it == frame.end() || !it->is_string()) return error(id, "channel: is required");
        return unsubscribe{id, it->get<std::string>()};
    }
    if (name == "ping") return ping{id};
    if (name == "auth") {
        auto token = frame.find("token");
        if (token == frame.end() || !token->is_string()) return error(id, "token: is required");
        return auth{id, token->get<std::string>()};
    }
    return error(id, "type: unknown type '" + name + "'");
}

}  // namespace kp::session::client_frame
