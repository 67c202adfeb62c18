#pragma once
// Does a Kinto event's payload `uri` agree with its ids? "/buckets/B/collections/C/records/R"
// names bucket_id B, collection_id C and record_id R ("/buckets/B/groups/G": group_id G); an
// id the payload also gives must be the same. Plural URIs (".../records") name fewer ids;
// ids the payload does not give are not compared.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kp::channels {

class kinto_uri {
public:
    // Nullopt when they agree; else the payload member that disagrees ("collection_id") and
    // the id the URI gives in its place.
    struct disagreement {
        std::string field;
        std::string uri_id;
    };
    template <class Json>
    static std::optional<disagreement> check(std::string_view uri, Json const& payload) {
        for (auto const& [field, uri_id] : ids(uri)) {
            auto it = payload.find(field);
            if (it == payload.end() || !it->is_string()) continue;
            if (it->template get_ref<std::string const&>() != uri_id) return disagreement{field, uri_id};
        }
        return std::nullopt;
    }

    // The ids a URI names, as (payload member, id) pairs, outermost first.
    static std::vector<std::pair<std::string, std::string>> ids(std::string_view uri);
};

}  // namespace kp::channels
