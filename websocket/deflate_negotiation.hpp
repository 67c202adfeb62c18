#pragma once
// permessage-deflate (RFC 7692 section 7), the server's side of the negotiation: which offer
// of a Sec-WebSocket-Extensions header is accepted, and what the 101 answers.
//
// The server compresses every message on its own, with a 32 KiB window (one compressed frame
// shared by every connection), and keeps no inflate state between client messages. So it
// accepts an offer whose parameters are, each at most once:
//   server_no_context_takeover, client_no_context_takeover (no value);
//   client_max_window_bits, with or without a value from 8 to 15 (a 15-bit inflater reads
//     every window up to 15, so the value changes nothing here);
//   server_max_window_bits=15 (a smaller window would need frames of our own).
// Any other parameter, a duplicate, or an invalid value declines that offer (section 7: the
// server MUST decline it); the next offer is tried, and without one the connection goes on
// uncompressed. The answer always holds server_no_context_takeover and
// client_no_context_takeover (section 7.1.1.2: a server may ask it of the client), and
// server_max_window_bits=15 when the offer named it (section 7.1.2.1).

#include "websocket/extension_offers.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace kp::websocket {

class deflate_negotiation {
public:
    // The Sec-WebSocket-Extensions value of the 101 when an offer in `header` is accepted.
    static std::optional<std::string> answer(std::string_view header);

    // Why this offer is declined (empty: accepted). Names and parameters compare without
    // regard to case (as Beast does).
    static std::string refusal(extension_offer const& offer);
};

}  // namespace kp::websocket
