#include "push/broadcast_spec.hpp"

#include "channels/channel_name.hpp"

#include <algorithm>

namespace kp::push {

namespace {

bool valid_part(std::string_view part, std::size_t max) {
    return !part.empty() && part.size() <= max && std::all_of(part.begin(), part.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

}  // namespace

bool broadcast_spec::valid_id(std::string_view id) {
    auto slash = id.find('/');
    if (slash == std::string_view::npos) return false;
    return valid_part(id.substr(0, slash), 64) && valid_part(id.substr(slash + 1), 128);
}

std::variant<broadcast_spec, std::string> broadcast_spec::parse(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos) return std::string("must be ID=CHANNEL");
    auto id = text.substr(0, eq);
    auto channel = text.substr(eq + 1);
    if (!valid_id(id))
        return "broadcast id '" + std::string(id) +
               "' must be BROADCASTER/NAME of letters, digits, _ and - (at most 64 and 128 characters)";
    auto name = channels::channel_name::parse(channel);
    if (!name) return "'" + std::string(channel) + "' is not a channel name (e.g. /buckets/main)";
    return broadcast_spec{std::string(id), name->str()};
}

}  // namespace kp::push
