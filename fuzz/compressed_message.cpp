// Fuzz target: a compressed client message (permessage-deflate) as the frame reader takes it
// once the extension is negotiated: the input's first byte picks the size limit, the rest is
// the compressed payload, sent whole in one masked frame with RSV1 (websocket/frame_reader,
// websocket/message_inflater), then the same bytes compressed and inflated back
// (websocket/message_deflater).
// Invariants: the frame gives a text message within the limit and valid UTF-8, or closes with
// 1007 (bad data, not UTF-8) or 1009 (past the limit), never anything else; the inflater never
// returns more than the limit; deflate then inflate gives the input back.

#include "fuzz/fuzz_check.hpp"
#include "websocket/frame_reader.hpp"
#include "websocket/message_deflater.hpp"
#include "websocket/message_inflater.hpp"
#include "websocket/utf8_validator.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ws = kp::websocket;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size == 0) return 0;
    std::size_t const limit = 1 + std::size_t{data[0]} * 64;   // 1 to 16,321 bytes
    std::string_view const payload(reinterpret_cast<char const*>(data + 1), size - 1);

    // One frame: FIN, RSV1, text; masked with a zero key (the payload as is).
    std::string frame;
    frame += static_cast<char>(0xC1);
    if (payload.size() < 126) {
        frame += static_cast<char>(0x80 | payload.size());
    } else if (payload.size() <= 0xFFFF) {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>(payload.size() >> 8);
        frame += static_cast<char>(payload.size() & 0xFF);
    } else {
        return 0;
    }
    frame.append(4, '\0');
    frame.append(payload);
    ws::frame_reader reader(limit);
    reader.accept_deflate();
    auto const r = reader.read(std::span<char>(frame.data(), frame.size()));
    using kind = ws::frame_event::kind;
    if (r.event.what == kind::text) {
        FUZZ_CHECK(r.consumed == frame.size());
        FUZZ_CHECK(r.event.payload.size() <= limit);
        FUZZ_CHECK(ws::valid_utf8(r.event.payload));
    } else {
        FUZZ_CHECK(r.event.what == kind::error);
        FUZZ_CHECK(r.event.code == 1007 || r.event.code == 1009);
        // 1009 from the header alone only when the compressed payload itself is over the limit.
        if (payload.size() <= limit && r.event.code == 1009)
            FUZZ_CHECK(ws::message_inflater::inflate(payload, limit).what == ws::message_inflater::status::too_big);
    }

    auto const inflated = ws::message_inflater::inflate(payload, limit);
    if (inflated.what == ws::message_inflater::status::ok) FUZZ_CHECK(inflated.text.size() <= limit);

    std::string const compressed = ws::message_deflater::deflate(payload);
    auto const back = ws::message_inflater::inflate(compressed, payload.size());
    FUZZ_CHECK(back.what == ws::message_inflater::status::ok && back.text == payload);
    return 0;
}
