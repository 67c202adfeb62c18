#include "channels/kinto_uri.hpp"

namespace kp::channels {

std::vector<std::pair<std::string, std::string>> kinto_uri::ids(std::string_view uri) {
    static constexpr std::pair<std::string_view, char const*> kinds[] = {
        {"buckets", "bucket_id"}, {"collections", "collection_id"}, {"records", "record_id"}, {"groups", "group_id"}};
    std::vector<std::string_view> parts;
    std::size_t start = uri.starts_with('/') ? 1 : 0;
    while (start <= uri.size()) {
        auto slash = uri.find('/', start);
        if (slash == std::string_view::npos) slash = uri.size();
        parts.push_back(uri.substr(start, slash - start));
        start = slash + 1;
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i + 1 < parts.size(); i += 2) {
        char const* field = nullptr;
        for (auto const& [segment, member] : kinds)
            if (parts[i] == segment) field = member;
        if (!field || parts[i + 1].empty()) break;   // another resource: nothing more to compare
        out.emplace_back(field, std::string(parts[i + 1]));
    }
    return out;
}

}  // namespace kp::channels
