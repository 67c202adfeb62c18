#include "channels/channel_name.hpp"

namespace kp::channels {

bool channel_name::valid_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string channel_name::bucket(std::string_view bid) {
    return "/buckets/" + std::string(bid);
}

std::string channel_name::collection(std::string_view bid, std::string_view cid) {
    return "/buckets/" + std::string(bid) + "/collections/" + std::string(cid);
}

std::optional<channel_name> channel_name::parse(std::string_view text) {
    constexpr std::string_view root = "/buckets";
    if (!text.starts_with(root)) return std::nullopt;
    std::string_view rest = text.substr(root.size());
    if (rest.empty()) return channel_name(kind::firehose, std::string(text));
    if (rest.front() != '/') return std::nullopt;
    rest.remove_prefix(1);
    auto slash = rest.find('/');
    std::string_view bid = rest.substr(0, slash);
    if (!valid_id(bid)) return std::nullopt;
    if (slash == std::string_view::npos) return channel_name(kind::bucket, std::string(text));
    rest = rest.substr(slash);
    constexpr std::string_view collections = "/collections/";
    if (!rest.starts_with(collections)) return std::nullopt;
    std::string_view cid = rest.substr(collections.size());
    if (!valid_id(cid)) return std::nullopt;
    return channel_name(kind::collection, std::string(text));
}

}  // namespace kp::channels
