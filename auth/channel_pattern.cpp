#include "auth/channel_pattern.hpp"

namespace kp::auth {

namespace {

// Kinto's default id rule; the same as channels::channel_name::valid_id, repeated here so that
// auth/ does not link the channels library for twelve lines.
bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-';
        if (!ok) return false;
    }
    return true;
}

// Splits "/a/b" into {"a", "b"}; nullopt unless `text` starts with '/'. Empty segments are
// kept (they then fail validation) so that "/buckets/" is not read as "/buckets".
std::optional<std::vector<std::string_view>> split(std::string_view text) {
    if (text.empty() || text.front() != '/') return std::nullopt;
    std::vector<std::string_view> out;
    text.remove_prefix(1);
    while (true) {
        auto slash = text.find('/');
        out.push_back(text.substr(0, slash));
        if (slash == std::string_view::npos) break;
        text.remove_prefix(slash + 1);
        // Channel names have at most four segments: stop early on absurd input.
        if (out.size() > 4) return std::nullopt;
    }
    return out;
}

// The literal that position `i` of a pattern must hold, or "" where an id (or `*`) goes.
std::string_view literal_at(std::size_t i) {
    if (i == 0) return "buckets";
    if (i == 2) return "collections";
    return "";
}

}  // namespace

std::optional<channel_pattern> channel_pattern::parse(std::string_view text) {
    auto parts = split(text);
    if (!parts) return std::nullopt;
    std::size_t const n = parts->size();
    if (n != 1 && n != 2 && n != 4) return std::nullopt;
    std::vector<std::string> segments;
    segments.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::string_view seg = (*parts)[i];
        std::string_view literal = literal_at(i);
        if (!literal.empty()) {
            if (seg != literal) return std::nullopt;
        } else if (seg != "*" && !valid_id(seg)) {
            return std::nullopt;
        }
        segments.emplace_back(seg);
    }
    return channel_pattern(std::string(text), std::move(segments));
}

bool channel_pattern::matches(std::string_view channel) const {
    auto parts = split(channel);
    if (!parts || parts->size() != segments_.size()) return false;
    for (std::size_t i = 0; i < segments_.size(); ++i) {
        std::string_view seg = (*parts)[i];
        if (segments_[i] == "*") {
            if (!valid_id(seg)) return false;
        } else if (seg != segments_[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace kp::auth
