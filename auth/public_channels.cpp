#include "auth/public_channels.hpp"

#include "auth/blanks.hpp"

#include <algorithm>

namespace kp::auth {

namespace {

constexpr std::string_view firehose = "/buckets";


}  // namespace

std::variant<public_channels, std::string> public_channels::parse(std::string_view list) {
    std::vector<channel_pattern> patterns;
    while (true) {
        auto comma = list.find(',');
        std::string_view item = trim_blanks(list.substr(0, comma));
        if (!item.empty()) {
            if (item == firehose) {
                return std::string(
                    "public channel pattern '/buckets': the firehose /buckets can never be "
                    "public; grant it with a JWT whose channels name it");
            }
            auto pattern = channel_pattern::parse(item);
            if (!pattern) {
                return "invalid public channel pattern '" + std::string(item) +
                       "': expected /buckets/{bid} or /buckets/{bid}/collections/{cid}, where each id "
                       "is [a-zA-Z0-9_-]{1,64} or * (one whole segment)";
            }
            if (std::find(patterns.begin(), patterns.end(), *pattern) == patterns.end())
                patterns.push_back(std::move(*pattern));
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return public_channels(std::move(patterns));
}

bool public_channels::allows(std::string_view channel) const {
    // parse() already refuses a /buckets pattern; this keeps the rule true even if a future
    // pattern syntax could match the firehose.
    if (channel == firehose) return false;
    return std::any_of(patterns_.begin(), patterns_.end(),
                       [&](channel_pattern const& p) { return p.matches(channel); });
}

}  // namespace kp::auth
