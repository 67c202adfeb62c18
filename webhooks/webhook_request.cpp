#include "webhooks/webhook_request.hpp"

#include "channels/channel_name.hpp"
#include "webhooks/webhook_definition.hpp"
#include "webhooks/webhook_signature.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <limits>
#include <set>
#include <string_view>

namespace kp::webhooks {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_epoch_bytes = 128;

request_error error(std::string field, std::string message) {
    return request_error{std::move(field), std::move(message)};
}

// The first key of `body` that is not among `known`.
std::optional<request_error> unknown_field(json const& body, std::initializer_list<std::string_view> known) {
    for (auto const& [key, value] : body.items()) {
        // An empty key ("") cannot name the field: the body is at fault then.
        if (std::find(known.begin(), known.end(), key) == known.end())
            return error(key.empty() ? "body" : key, "unknown field '" + key + "'");
    }
    return std::nullopt;
}

// A whole number >= 0, however it was made (parsed text gives unsigned numbers, C++ ints
// signed ones); nullopt for anything else (negative, fractional, not a number, a boolean).
std::optional<std::uint64_t> non_negative_integer(json const& value) {
    if (value.is_number_unsigned()) return value.get<std::uint64_t>();
    if (value.is_number_integer() && value.get<std::int64_t>() >= 0)
        return static_cast<std::uint64_t>(value.get<std::int64_t>());
    return std::nullopt;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    }
    return true;
}

std::variant<std::string, request_error> read_url(json const& value, request_limits const& limits) {
    if (!value.is_string()) return error("url", "url must be a string");
    auto const& url = value.get_ref<std::string const&>();
    if (url.size() > limits.max_url_bytes)
        return error("url", "url is longer than " + std::to_string(limits.max_url_bytes) + " bytes");
    std::size_t scheme = 0;
    if (starts_with_ignoring_case(url, "http://"))
        scheme = 7;
    else if (starts_with_ignoring_case(url, "https://"))
        scheme = 8;
    else
        return error("url", "url must start with http:// or https://");
    if (url.size() == scheme) return error("url", "url has no host");
    return url;
}

std::variant<std::vector<std::string>, request_error> read_channels(json const& value, request_limits const& limits) {
    if (!value.is_array()) return error("channels", "channels must be an array of channel names");
    if (value.empty()) return error("channels", "channels must name at least one channel");
    if (value.size() > limits.max_channels)
        return error("channels", "at most " + std::to_string(limits.max_channels) + " channels");
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (auto const& item : value) {
        if (!item.is_string()) return error("channels", "channels must be an array of channel names");
        auto const& text = item.get_ref<std::string const&>();
        if (text.find('*') != std::string::npos)
            return error("channels", "'" + text + "': webhooks take channel names, not patterns");
        auto const name = channels::channel_name::parse(text);
        if (!name)
            return error("channels",
                         "'" + text + "' is not a channel name (" + std::string(channels::channel_name::grammar) + ")");
        if (!seen.insert(name->str()).second) return error("channels", "'" + text + "' is listed twice");
        out.push_back(name->str());
    }
    return out;
}

std::variant<std::int64_t, request_error> read_timestamp(json const& value) {
    auto const n = non_negative_integer(value);
    if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return error("since", "since.timestamp must be a non-negative integer");
    return static_cast<std::int64_t>(*n);
}

// {"epoch": "…", "offset": N}; `what` names it in messages.
std::variant<channel_position, request_error> read_position(json const& value, std::string const& what) {
    if (!value.is_object()) return error("since", what + " must be an object {\"epoch\", \"offset\"}");
    for (auto const& [key, item] : value.items()) {
        if (key != "epoch" && key != "offset") return error("since", what + ": unknown field '" + key + "'");
    }
    auto const epoch = value.find("epoch");
    if (epoch == value.end() || !epoch->is_string() || epoch->get_ref<std::string const&>().empty() ||
        epoch->get_ref<std::string const&>().size() > max_epoch_bytes)
        return error("since", what + ".epoch must be a non-empty string");
    auto const offset = value.find("offset");
    auto const n = offset == value.end() ? std::nullopt : non_negative_integer(*offset);
    if (!n) return error("since", what + ".offset must be a non-negative integer");
    return channel_position{epoch->get<std::string>(), *n};
}

// Creation's since: {"timestamp": T} alone, or positions of some of `channels`.
std::variant<since_spec, request_error> read_creation_since(json const& value, std::vector<std::string> const& channels) {
    if (!value.is_object())
        return error("since", "since must be an object: {\"<channel>\": {\"epoch\", \"offset\"}, …} or {\"timestamp\": T}");
    if (value.empty()) return error("since", "since is empty: leave it out to start from now on");
    since_spec out;
    if (value.contains("timestamp")) {
        if (value.size() != 1) return error("since", "since takes either a timestamp or positions, not both");
        auto timestamp = read_timestamp(value["timestamp"]);
        if (auto const* e = std::get_if<request_error>(&timestamp)) return *e;
        out.timestamp = std::get<std::int64_t>(timestamp);
        return out;
    }
    for (auto const& [key, item] : value.items()) {
        if (std::find(channels.begin(), channels.end(), key) == channels.end())
            return error("since", "since." + key + ": not a channel of this webhook");
        auto position = read_position(item, "since." + key);
        if (auto const* e = std::get_if<request_error>(&position)) return *e;
        out.positions.emplace(key, std::get<channel_position>(std::move(position)));
    }
    return out;
}

std::variant<std::string, request_error> read_description(json const& value, request_limits const& limits) {
    if (!value.is_string()) return error("description", "description must be a string");
    if (value.get_ref<std::string const&>().size() > limits.max_description_bytes)
        return error("description",
                     "description is longer than " + std::to_string(limits.max_description_bytes) + " bytes");
    return value.get<std::string>();
}

std::variant<unsigned, request_error> read_max_batch(json const& value) {
    auto const n = non_negative_integer(value);
    if (!n || *n < 1 || *n > webhook_definition::max_batch_limit)
        return error("max_batch",
                     "max_batch must be an integer from 1 to " + std::to_string(webhook_definition::max_batch_limit));
    return static_cast<unsigned>(*n);
}

// Moves the value of a successful read into `target`, or hands back the error.
template <typename T, typename Target>
std::optional<request_error> take(std::variant<T, request_error> result, Target& target) {
    if (auto* e = std::get_if<request_error>(&result)) return std::move(*e);
    target = std::get<T>(std::move(result));
    return std::nullopt;
}

}  // namespace

std::variant<creation_request, request_error> webhook_request::parse_creation(json const& body,
                                                                              request_limits const& limits) {
    if (!body.is_object()) return error("body", "the body must be a JSON object");
    if (auto e = unknown_field(body, {"url", "channels", "since", "secret", "description", "max_batch"})) return *e;
    creation_request out;
    auto const url = body.find("url");
    if (url == body.end()) return error("url", "url is required");
    if (auto e = take(read_url(*url, limits), out.url)) return *e;
    auto const channel_list = body.find("channels");
    if (channel_list == body.end()) return error("channels", "channels is required");
    if (auto e = take(read_channels(*channel_list, limits), out.channels)) return *e;
    if (auto const since = body.find("since"); since != body.end()) {
        if (auto e = take(read_creation_since(*since, out.channels), out.since)) return *e;
    }
    if (auto const secret = body.find("secret"); secret != body.end()) {
        if (!secret->is_string() || !valid_secret(secret->get_ref<std::string const&>()))
            return error("secret", "secret must be \"whsec_\" followed by the base64 of 24 to 64 bytes");
        out.secret = secret->get<std::string>();
    }
    if (auto const description = body.find("description"); description != body.end()) {
        if (auto e = take(read_description(*description, limits), out.description)) return *e;
    }
    if (auto const max_batch = body.find("max_batch"); max_batch != body.end()) {
        if (auto e = take(read_max_batch(*max_batch), out.max_batch)) return *e;
    }
    return out;
}

std::variant<patch_request, request_error> webhook_request::parse_patch(json const& body,
                                                                        request_limits const& limits) {
    if (!body.is_object()) return error("body", "the body must be a JSON object");
    if (auto e = unknown_field(body, {"url", "channels", "description", "max_batch", "enabled"})) return *e;
    if (body.empty())
        return error("body", "nothing to change: give url, channels, description, max_batch or enabled");
    patch_request out;
    if (auto const url = body.find("url"); url != body.end()) {
        if (auto e = take(read_url(*url, limits), out.url)) return *e;
    }
    if (auto const channel_list = body.find("channels"); channel_list != body.end()) {
        if (auto e = take(read_channels(*channel_list, limits), out.channels)) return *e;
    }
    if (auto const description = body.find("description"); description != body.end()) {
        if (auto e = take(read_description(*description, limits), out.description)) return *e;
    }
    if (auto const max_batch = body.find("max_batch"); max_batch != body.end()) {
        if (auto e = take(read_max_batch(*max_batch), out.max_batch)) return *e;
    }
    if (auto const enabled = body.find("enabled"); enabled != body.end()) {
        if (!enabled->is_boolean()) return error("enabled", "enabled must be true or false");
        out.enabled = enabled->get<bool>();
    }
    return out;
}

std::variant<replay_request, request_error> webhook_request::parse_replay(json const& body) {
    if (!body.is_object()) return error("body", "the body must be a JSON object");
    if (auto e = unknown_field(body, {"channel", "since"})) return *e;
    auto const channel = body.find("channel");
    if (channel == body.end()) return error("channel", "channel is required");
    if (!channel->is_string()) return error("channel", "channel must be a channel name");
    auto const& text = channel->get_ref<std::string const&>();
    if (text.find('*') != std::string::npos) return error("channel", "'" + text + "': a channel name, not a pattern");
    auto const name = channels::channel_name::parse(text);
    if (!name)
        return error("channel",
                     "'" + text + "' is not a channel name (" + std::string(channels::channel_name::grammar) + ")");
    replay_request out;
    out.channel = name->str();
    auto const since = body.find("since");
    if (since == body.end()) return error("since", "since is required: {\"epoch\", \"offset\"} or {\"timestamp\"}");
    if (!since->is_object()) return error("since", "since must be {\"epoch\", \"offset\"} or {\"timestamp\"}");
    if (since->contains("timestamp")) {
        if (since->size() != 1) return error("since", "since takes either a timestamp or a position, not both");
        std::int64_t timestamp = 0;
        if (auto e = take(read_timestamp((*since)["timestamp"]), timestamp)) return *e;
        out.since.timestamp = timestamp;
        return out;
    }
    channel_position position;
    if (auto e = take(read_position(*since, "since"), position)) return *e;
    out.since.positions.emplace(out.channel, std::move(position));
    return out;
}

}  // namespace kp::webhooks
