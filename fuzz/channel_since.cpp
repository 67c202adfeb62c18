// Fuzz target: channel names and `since` positions. The input is a channel name, a newline,
// then the JSON text of a `since` (anything). Checks channels::channel_name::parse (and the
// builders agree with it), auth::channel_pattern (a channel name is a pattern that matches
// itself), and the subscribe frame built from both (server/client_frame).

#include "auth/channel_pattern.hpp"
#include "channels/channel_name.hpp"
#include "fuzz/fuzz_check.hpp"
#include "session/client_frame.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using kp::channels::channel_name;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const input(reinterpret_cast<char const*>(data), size);
    auto const newline = input.find('\n');
    std::string_view const name = input.substr(0, newline);
    std::string_view const since = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

    auto const channel = channel_name::parse(name);
    if (channel) {
        FUZZ_CHECK(channel->str() == name);
        FUZZ_CHECK(name.size() <= std::string_view("/buckets//collections/").size() + 2 * 64);
        auto const pattern = kp::auth::channel_pattern::parse(name);
        FUZZ_CHECK(pattern && pattern->matches(name));
        if (channel->type() == channel_name::kind::bucket) {
            FUZZ_CHECK(channel_name::bucket(name.substr(9)) == name);
            FUZZ_CHECK(channel_name::valid_id(name.substr(9)));
        }
    }
    if (auto const pattern = kp::auth::channel_pattern::parse(name)) {
        FUZZ_CHECK(pattern->str() == name);
        // A pattern never matches something that is not a channel name.
        FUZZ_CHECK(!pattern->matches(std::string(name) + "/") && !pattern->matches(""));
    }

    // The channel name is a JSON string only when it is valid UTF-8; otherwise the frame
    // would never reach the parser (Beast closes with 1007).
    nlohmann::ordered_json name_json;
    try {
        name_json = std::string(name);
        (void)name_json.dump();
    } catch (nlohmann::json::exception const&) {
        return 0;
    }
    std::string const frame = R"({"type":"subscribe","id":"f","channel":)" + name_json.dump() +
                              (since.empty() ? std::string() : R"(,"since":)" + std::string(since)) + "}";
    auto const parsed = kp::session::client_frame::parse(frame);
    if (auto const* request = std::get_if<kp::session::client_frame::subscribe>(&parsed)) {
        FUZZ_CHECK(channel && request->channel == name);
        if (request->since_timestamp) FUZZ_CHECK(*request->since_timestamp >= 0);
    } else if (!channel) {
        FUZZ_CHECK(!std::holds_alternative<kp::session::client_frame::subscribe>(parsed));
    }
    return 0;
}
