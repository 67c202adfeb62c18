// websocket/message_deflater and message_inflater (RFC 7692 section 7.2), and the frame
// reader's handling of compressed messages (RSV1 rules, inflation within the size limit).

#include "websocket/frame_encoder.hpp"
#include "websocket/frame_reader.hpp"
#include "websocket/message_deflater.hpp"
#include "websocket/message_inflater.hpp"

#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

using kp::websocket::frame_event;
using kp::websocket::frame_reader;
using kp::websocket::message_deflater;
using kp::websocket::message_inflater;
using kp::websocket::opcode;

namespace {

constexpr std::uint8_t fin = 0x80;
constexpr std::uint8_t rsv1 = 0x40;

// A masked client frame.
std::string client_frame(std::uint8_t first_byte, std::string const& payload) {
    std::string const key = "\x5a\xa5\x0f\xf0";
    std::string f;
    f += static_cast<char>(first_byte);
    std::size_t const n = payload.size();
    if (n < 126) {
        f += static_cast<char>(0x80 | n);
    } else if (n <= 0xFFFF) {
        f += static_cast<char>(0x80 | 126);
        f += static_cast<char>(n >> 8);
        f += static_cast<char>(n & 0xFF);
    } else {
        f += static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF);
    }
    f += key;
    for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ key[i % 4]);
    return f;
}

// Raw DEFLATE of `text` by zlib directly (an independent compressor, as a client's), flushed
// and without the trailing 00 00 ff ff; `final_block`: ended by Z_FINISH instead.
std::string client_deflate(std::string const& text, bool final_block = false) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, final_block ? Z_FINISH : Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    if (!final_block) {
        REQUIRE(out.size() >= 4);
        REQUIRE(out.substr(out.size() - 4) == std::string("\x00\x00\xff\xff", 4));
        out.resize(out.size() - 4);
    }
    return out;
}

// An event-like JSON text of about `size` bytes.
std::string json_text(std::size_t size) {
    std::string s = R"({"type":"event","channel":"/buckets/main/collections/cfr","offset":17,"payload":[)";
    std::mt19937 rng(7);
    while (s.size() < size) s += R"({"id":")" + std::to_string(rng()) + R"(","last_modified":)" + std::to_string(rng()) + "},";
    s.resize(size - 1);
    s += "]";
    return s;
}

// Reads `bytes` whole with a reader that negotiated deflate (or not).
std::vector<frame_event> read_events(std::string bytes, std::size_t limit, bool deflate = true,
                                     std::vector<std::string>* payloads = nullptr) {
    frame_reader reader(limit);
    if (deflate) reader.accept_deflate();
    std::vector<frame_event> events;
    std::size_t pos = 0;
    for (;;) {
        auto r = reader.read(std::span<char>(bytes.data() + pos, bytes.size() - pos));
        if (r.event.what != frame_event::kind::none) {
            events.push_back(r.event);
            if (payloads) payloads->emplace_back(r.event.payload);
        }
        if (r.event.what == frame_event::kind::error || r.consumed == 0) break;
        pos += r.consumed;
    }
    return events;
}

}  // namespace

TEST_CASE("deflate then inflate gives the message back, from empty to large", "[websocket][deflate]") {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{200}, std::size_t{5000}, std::size_t{300000}}) {
        INFO(size);
        std::string const text = size ? json_text(std::max<std::size_t>(size, 2)).substr(0, size) : std::string();
        std::string const data = message_deflater::deflate(text);
        // No trailing empty block: RFC 7692 section 7.2.1 drops it.
        if (data.size() >= 4) CHECK(data.substr(data.size() - 4) != std::string("\x00\x00\xff\xff", 4));
        auto const back = message_inflater::inflate(data, 1 << 20);
        REQUIRE(back.what == message_inflater::status::ok);
        CHECK(back.text == text);
    }
    // Each message on its own: compressing a text twice gives the same bytes (no context).
    std::string const text = json_text(3000);
    CHECK(message_deflater::deflate(text) == message_deflater::deflate(text));
    // And what another DEFLATE implementation (zlib at level 9, a final block or not) wrote.
    for (bool final_block : {false, true}) {
        auto const back = message_inflater::inflate(client_deflate(text, final_block), 1 << 20);
        REQUIRE(back.what == message_inflater::status::ok);
        CHECK(back.text == text);
    }
}

TEST_CASE("compressed frames: RSV1, the threshold, and only when it pays", "[websocket][deflate]") {
    std::string const at = json_text(message_deflater::threshold);
    std::string const below = json_text(message_deflater::threshold - 1);
    std::string const frame = message_deflater::encode_frame(opcode::text, at);
    REQUIRE_FALSE(frame.empty());
    CHECK(static_cast<unsigned char>(frame[0]) == (fin | rsv1 | 0x1));
    CHECK(frame.size() < kp::websocket::encode_frame(opcode::text, at).size());
    std::size_t const header = (frame[1] & 0x7F) < 126 ? 2 : 4;
    auto const back = message_inflater::inflate(std::string_view(frame).substr(header), 1 << 20);
    REQUIRE(back.what == message_inflater::status::ok);
    CHECK(back.text == at);
    // Under the threshold: plain.
    CHECK(message_deflater::encode_frame(opcode::text, below).empty());
    // Random bytes do not compress: plain too.
    std::mt19937 rng(1);
    std::string noise(4096, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    CHECK(message_deflater::encode_frame(opcode::text, noise).empty());
    // The header's RSV1 bit, on its own.
    CHECK(kp::websocket::frame_header(opcode::text, 3, true) == std::string("\xc1\x03", 2));
}

TEST_CASE("inflating stops at the limit: a decompression bomb is too big, not a memory hog", "[websocket][deflate]") {
    std::string const zeros(10 * 1024 * 1024, '\0');
    std::string const bomb = client_deflate(zeros);
    REQUIRE(bomb.size() < 20 * 1024);   // ten MiB in a few KiB
    CHECK(message_inflater::inflate(bomb, 64 * 1024).what == message_inflater::status::too_big);
    // Exactly at the limit is fine, one byte past it is not.
    std::string const text = json_text(1000);
    auto const data = client_deflate(text);
    CHECK(message_inflater::inflate(data, 1000).what == message_inflater::status::ok);
    CHECK(message_inflater::inflate(data, 999).what == message_inflater::status::too_big);
}

TEST_CASE("inflating garbage is invalid", "[websocket][deflate]") {
    CHECK(message_inflater::inflate("\xff\xff\xff\xff garbage", 1 << 20).what == message_inflater::status::invalid);
    // A final block followed by more of the message.
    std::string const data = client_deflate("hello", true) + "trailing";
    CHECK(message_inflater::inflate(data, 1 << 20).what == message_inflater::status::invalid);
    // A good message after a bad one: the thread's stream was reset.
    auto const ok = message_inflater::inflate(client_deflate("hello"), 1 << 20);
    REQUIRE(ok.what == message_inflater::status::ok);
    CHECK(ok.text == "hello");
}

TEST_CASE("frame_reader inflates compressed messages, whole or fragmented", "[websocket][deflate]") {
    std::string const text = json_text(2000);
    std::string const data = client_deflate(text);
    std::string const stream = client_frame(fin | rsv1 | 0x1, data) +                         // compressed, one frame
                               client_frame(fin | 0x1, "plain") +                             // plain: RSV1 clear
                               client_frame(rsv1 | 0x1, data.substr(0, 10)) +                 // compressed, fragmented,
                               client_frame(fin | 0x9, "p") +                                 // a ping in between
                               client_frame(fin | 0x0, data.substr(10)) +
                               client_frame(fin | rsv1 | 0x1, client_deflate("caf\xc3\xa9"));
    std::vector<std::string> payloads;
    auto const events = read_events(stream, 4096, true, &payloads);
    REQUIRE(events.size() == 5);
    CHECK(events[0].what == frame_event::kind::text);
    CHECK(payloads[0] == text);
    CHECK(payloads[1] == "plain");
    CHECK(events[2].what == frame_event::kind::ping);
    CHECK(payloads[3] == text);
    CHECK(payloads[4] == "caf\xc3\xa9");
}

TEST_CASE("frame_reader: the RSV1 rules and the inflated limit", "[websocket][deflate]") {
    std::string const data = client_deflate(json_text(500));
    struct one_case {
        char const* what;
        std::string bytes;
        bool deflate;
        std::uint16_t code;
    };
    std::vector<one_case> const cases{
        {"RSV1 without the extension", client_frame(fin | rsv1 | 0x1, data), false, 1002},
        {"RSV1 on a continuation", client_frame(rsv1 | 0x1, data.substr(0, 5)) + client_frame(fin | rsv1 | 0x0, data.substr(5)), true, 1002},
        {"RSV1 on a continuation of a plain message", client_frame(0x1, "ab") + client_frame(fin | rsv1 | 0x0, "cd"), true, 1002},
        {"RSV1 on a ping", client_frame(fin | rsv1 | 0x9, "p"), true, 1002},
        {"RSV1 on a close", client_frame(fin | rsv1 | 0x8, std::string("\x03\xe8", 2)), true, 1002},
        {"RSV2", client_frame(fin | 0x20 | 0x1, "x"), true, 1002},
        {"RSV3", client_frame(fin | 0x10 | 0x1, "x"), true, 1002},
        {"invalid deflate data", client_frame(fin | rsv1 | 0x1, "\xff\xff\xff\xff"), true, 1007},
        {"not UTF-8 once inflated", client_frame(fin | rsv1 | 0x1, client_deflate("\xc0\xaf")), true, 1007},
        {"inflates past the limit", client_frame(fin | rsv1 | 0x1, client_deflate(std::string(5000, 'a'))), true, 1009},
        {"fragments inflate past the limit",
         client_frame(rsv1 | 0x1, client_deflate(std::string(5000, 'a')).substr(0, 3)) +
             client_frame(fin | 0x0, client_deflate(std::string(5000, 'a')).substr(3)),
         true, 1009},
        {"compressed size past the limit", client_frame(fin | rsv1 | 0x1, std::string(1025, 'x')), true, 1009},
    };
    for (auto const& c : cases) {
        INFO(c.what);
        auto const events = read_events(c.bytes, 1024, c.deflate);
        REQUIRE_FALSE(events.empty());
        CHECK(events.back().what == frame_event::kind::error);
        CHECK(events.back().code == c.code);
    }
    // 1,024 bytes inflated is within a 1,024-byte limit.
    std::vector<std::string> payloads;
    auto const events = read_events(client_frame(fin | rsv1 | 0x1, client_deflate(std::string(1024, 'a'))), 1024, true, &payloads);
    REQUIRE(events.size() == 1);
    CHECK(events[0].what == frame_event::kind::text);
    CHECK(payloads[0] == std::string(1024, 'a'));
}
