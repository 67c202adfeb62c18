#include "server/config/unknown_variables.hpp"

#include "server/config/option_table.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string_view>

namespace kp::server {

namespace {

constexpr char const* prefix = "KINTO_PUSH_";

// Levenshtein distance (insertions, deletions, substitutions), one row at a time.
std::size_t edit_distance(std::string const& a, std::string const& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t const above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

std::vector<std::string> unknown_variables::closest(std::string const& name, std::vector<std::string> const& known) {
    std::size_t const bound = std::max<std::size_t>(1, name.size() / 3);
    std::size_t best = bound + 1;
    std::vector<std::string> out;
    for (auto const& candidate : known) {
        auto const d = edit_distance(name, candidate);
        if (d > best) continue;
        if (d < best) out.clear();
        best = d;
        out.push_back(candidate);
    }
    return out;
}

std::vector<std::string> unknown_variables::warnings(std::map<std::string, std::string> const& env) {
    std::vector<std::string> known{"KINTO_PUSH_CONFIG"};
    std::vector<std::string> suffixes{"CONFIG"};
    for (auto const& o : option_table::all()) {
        known.push_back(option_table::env_name(o.name));
        suffixes.push_back(known.back().substr(std::string_view(prefix).size()));
    }
    std::vector<std::string> out;
    for (auto const& [name, value] : env) {
        if (!name.starts_with(prefix) || std::find(known.begin(), known.end(), name) != known.end()) continue;
        // Compared without the common prefix (upper case: KINTO_PUSH_shards is a misspelling too).
        std::string suffix = name.substr(std::string_view(prefix).size());
        std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        std::string line = name + " is not a kinto-push variable (ignored)";
        auto const close = closest(suffix, suffixes);
        for (std::size_t i = 0; i < close.size(); ++i)
            line += (i == 0 ? "; did you mean " : " or ") + std::string(prefix) + close[i];
        out.push_back(close.empty() ? line : line + "?");
    }
    return out;
}

}  // namespace kp::server
