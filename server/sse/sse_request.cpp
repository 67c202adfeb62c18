#include "server/sse/sse_request.hpp"

#include "server/sse/sse_event_id.hpp"
#include "text/unsigned_number.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <limits>

namespace kp::server {

namespace {

using channels::channel_name;

sse_refusal refuse(std::string message) {
    return sse_refusal{std::move(message)};
}

// An epoch no history has: the hub answers recovered: false for it.
constexpr std::string_view foreign_epoch = "";

}  // namespace

std::variant<sse_request, sse_refusal> parse_sse_request(std::string_view target,
                                                          std::optional<std::string_view> last_event_id,
                                                          std::size_t max_subscriptions) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return refuse("the request target is not a valid URL");

    sse_request out;
    std::optional<std::string> id_text;
    std::optional<std::string> since_text;
    for (auto const& param : url->params()) {
        auto const& key = param.key;
        if (key == "channel") {
            auto channel = channel_name::parse(param.value);
            if (!channel)
                return refuse("channel: '" + param.value + "' is not a channel (" + std::string(channel_name::grammar) +
                              ")");
            bool const twice = std::any_of(out.subscribes.begin(), out.subscribes.end(),
                                           [&](auto const& s) { return s.channel == channel->str(); });
            if (twice) return refuse("channel: '" + channel->str() + "' is given twice");
            if (out.subscribes.size() == max_subscriptions)
                return refuse("channel: at most " + std::to_string(max_subscriptions) + " channels per stream");
            out.subscribes.push_back({nullptr, channel->str(), channel->type(), std::nullopt, std::nullopt});
        } else if (key == "access_token") {
            out.access_token = param.value;
        } else if (key == "last_event_id") {
            id_text = param.value;
        } else if (key == "since_timestamp") {
            since_text = param.value;
        }
    }
    if (out.subscribes.empty()) return refuse("channel: at least one is required (?channel=/buckets/BID/…)");
    if (last_event_id) id_text = std::string(*last_event_id);   // the browser's own is the newer

    std::optional<std::int64_t> since_timestamp;
    if (since_text) {
        auto value = text::parse_unsigned(*since_text);
        if (!value || *value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return refuse("since_timestamp: must be a non-negative integer (a Kinto timestamp)");
        for (auto const& s : out.subscribes) {
            if (s.kind != channel_name::kind::collection)
                return refuse("since_timestamp: only on collection channels ('" + s.channel + "' is not one)");
        }
        since_timestamp = static_cast<std::int64_t>(*value);
    }

    std::optional<sse_event_id::position> resumed;
    if (id_text && !id_text->empty()) {
        resumed = sse_event_id::parse(*id_text, out.subscribes.size());
        out.foreign_id = !resumed;
    }
    out.asked.resize(out.subscribes.size());
    for (std::size_t i = 0; i < out.subscribes.size(); ++i) {
        auto& s = out.subscribes[i];
        if (out.foreign_id) {
            s.since_position = channels::since_position{std::string(foreign_epoch), 0};
            // Until its `subscribed` is sent, the stream's id says "from the start" for this
            // channel: the safe question for a client whose position is unknown.
            out.asked[i] = 0;
        } else if (resumed && resumed->offsets[i]) {
            s.since_position = channels::since_position{resumed->epoch, *resumed->offsets[i]};
            out.asked[i] = resumed->offsets[i];
        } else {
            s.since_timestamp = since_timestamp;
        }
    }
    return out;
}

}  // namespace kp::server
