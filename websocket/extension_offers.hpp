#pragma once
// The Sec-WebSocket-Extensions header of an upgrade request, parsed (RFC 6455 section 9.1):
// a comma-separated list of offers, each an extension token followed by `;`-separated
// parameters, each a token with an optional value (a token or a quoted string whose unescaped
// text is a token). Spaces and tabs are allowed around the separators, empty list elements
// are skipped (RFC 9110's #rule).
//
// An offer that breaks the grammar is dropped alone: parsing resumes after the next comma
// outside a quoted string, so one bad offer never hides a good one after it. What the
// parameters mean is for each extension to judge (deflate_negotiation).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kp::websocket {

struct extension_param {
    std::string name;
    std::optional<std::string> value;   // unquoted; none when the parameter has no `=`

    bool operator==(extension_param const&) const = default;
};

struct extension_offer {
    std::string name;
    std::vector<extension_param> params;   // in the order offered, duplicates kept

    bool operator==(extension_offer const&) const = default;
};

// The well-formed offers of `header`, in order (several header lines: join them with ", ").
std::vector<extension_offer> parse_extension_offers(std::string_view header);

}  // namespace kp::websocket
