#include "server/http/channel_query.hpp"

#include "channels/channel_name.hpp"
#include "text/unsigned_number.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

namespace kp::server {

namespace {

constexpr std::string_view list_path = "/v1/channels";
constexpr std::string_view one_prefix = "/v1/channels/";

}  // namespace

std::variant<channel_query, std::string> channel_query::parse(std::string_view target) {
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return std::string("invalid request target");
    std::string const path = parsed->path();   // percent-decoded
    channel_query query;
    if (path.starts_with(one_prefix)) {
        std::string name = path.substr(one_prefix.size());
        if (name.empty())
            return "channel: missing after /v1/channels/ (" + std::string(channels::channel_name::grammar) + ")";
        if (name.front() != '/') name.insert(name.begin(), '/');
        auto channel = channels::channel_name::parse(name);
        if (!channel)
            return "channel: invalid channel name (" + std::string(channels::channel_name::grammar) + ")";
        query.channel = channel->str();
        return query;
    }
    if (path != list_path) return std::string("no such endpoint: " + path);

    auto params = parsed->params();
    if (auto it = params.find("prefix"); it != params.end()) {
        query.prefix = std::string((*it).value);
        if (!query.prefix.empty() && !query.prefix.starts_with("/buckets"))
            return std::string("prefix: must be empty or start with /buckets");
    }
    if (auto it = params.find("limit"); it != params.end()) {
        auto value = text::parse_unsigned(std::string((*it).value));
        if (!value || *value == 0) return std::string("limit: must be a positive integer");
        query.limit = static_cast<std::size_t>(std::min<std::uint64_t>(*value, max_limit));
    }
    return query;
}

channel_query::selection channel_query::select(std::vector<std::string> names,
                                               std::function<bool(std::string const&)> const& covered,
                                               std::size_t limit) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::erase_if(names, [&](std::string const& name) { return !covered(name); });
    selection out;
    out.more = names.size() > limit;
    if (out.more) names.resize(limit);
    out.channels = std::move(names);
    return out;
}

}  // namespace kp::server
