// Fuzz target: a Sec-WebSocket-Extensions header from a client (websocket/extension_offers,
// websocket/deflate_negotiation), as websocket_connection's upgrade reads it.
// Invariants: every parsed offer has a token for a name, tokens for its parameters' names and
// values; an accepted offer's answer starts with the fixed answer and, offered back to the
// server, is accepted again with the same answer.

#include "fuzz/fuzz_check.hpp"
#include "websocket/deflate_negotiation.hpp"
#include "websocket/extension_offers.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

bool token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c <= ' ' || c >= 127 || std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos)
            return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const header(reinterpret_cast<char const*>(data), size);
    for (auto const& offer : kp::websocket::parse_extension_offers(header)) {
        FUZZ_CHECK(token(offer.name));
        for (auto const& p : offer.params) {
            FUZZ_CHECK(token(p.name));
            FUZZ_CHECK(!p.value || token(*p.value));
        }
    }
    if (auto const answer = kp::websocket::deflate_negotiation::answer(header)) {
        FUZZ_CHECK(answer->starts_with("permessage-deflate; server_no_context_takeover; client_no_context_takeover"));
        FUZZ_CHECK(kp::websocket::deflate_negotiation::answer(*answer) == answer);
    }
    return 0;
}
