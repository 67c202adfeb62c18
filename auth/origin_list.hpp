#pragma once
// A list of web origins: the `--cors-origins` and `--allowed-origins` values.
//
// parse(list): `*` alone (any origin), or comma-separated origins as a browser sends them in
// its `Origin` field: scheme://host[:port], nothing after (no path, not even a trailing slash,
// no query, no user). Spaces and tabs around an item and empty items are ignored; duplicates
// are kept once. Each origin is stored as browsers serialize it, so that a request's `Origin`
// is compared byte for byte: scheme and host in lower case, the port without leading zeros and
// left out when it is the scheme's default (http 80, https 443). The error string names the
// first bad item and says what an origin looks like; it is meant for a start-up message.
// Socket-free; thread-safe once built (const only).

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kp::auth {

class origin_list {
public:
    static std::variant<origin_list, std::string> parse(std::string_view list);

    // The list is `*`: every origin is in it.
    bool any() const { return any_; }
    // `origin` (a request's Origin field, as sent) is listed, or the list is `*`.
    bool contains(std::string_view origin) const;
    // The origins, normalized, in the order given (empty for `*`).
    std::vector<std::string> const& origins() const { return origins_; }
    // `*`, or the origins joined by commas: what --print-config shows.
    std::string str() const;

private:
    origin_list(bool any, std::vector<std::string> origins) : any_(any), origins_(std::move(origins)) {}

    bool any_;
    std::vector<std::string> origins_;
};

}  // namespace kp::auth
