// websocket/: the frame encoder, the frame reader, UTF-8 validation and the handshake key.

#include "websocket/frame_encoder.hpp"
#include "websocket/frame_reader.hpp"
#include "websocket/handshake.hpp"
#include "websocket/utf8_validator.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using kp::websocket::frame_event;
using kp::websocket::frame_reader;
using kp::websocket::opcode;

namespace {

// A client frame: masked with `key`, as a browser sends it.
std::string client_frame(std::uint8_t first_byte, std::string const& payload, std::string const& key = "\x11\x22\x33\x44") {
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

constexpr std::uint8_t fin = 0x80;

struct read_all {
    std::vector<frame_event::kind> kinds;
    std::vector<std::string> payloads;
    std::vector<std::uint16_t> codes;
    std::size_t left = 0;
};

// Feeds `bytes` to `reader` in chunks of `chunk` bytes, as a socket would, collecting events.
read_all feed(frame_reader& reader, std::string const& bytes, std::size_t chunk) {
    read_all out;
    std::string buffer;
    std::size_t pos = 0;
    while (pos < bytes.size() || !buffer.empty()) {
        if (pos < bytes.size()) {
            buffer.append(bytes, pos, chunk);
            pos += std::min(chunk, bytes.size() - pos);
        }
        for (;;) {
            auto r = reader.read(std::span<char>(buffer.data(), buffer.size()));
            if (r.event.what != frame_event::kind::none) {
                out.kinds.push_back(r.event.what);
                out.payloads.emplace_back(r.event.payload);
                out.codes.push_back(r.event.code);
            }
            buffer.erase(0, r.consumed);
            if (r.event.what == frame_event::kind::error) return out;
            if (r.consumed == 0) break;
        }
        if (pos >= bytes.size()) break;
    }
    out.left = buffer.size();
    return out;
}

}  // namespace

TEST_CASE("frame_header uses the shortest length form", "[websocket]") {
    CHECK(kp::websocket::frame_header(opcode::text, 0) == std::string("\x81\x00", 2));
    CHECK(kp::websocket::frame_header(opcode::text, 125) == std::string("\x81\x7d", 2));
    CHECK(kp::websocket::frame_header(opcode::text, 126) == std::string("\x81\x7e\x00\x7e", 4));
    CHECK(kp::websocket::frame_header(opcode::text, 65535) == std::string("\x81\x7e\xff\xff", 4));
    CHECK(kp::websocket::frame_header(opcode::text, 65536) == std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
    CHECK(kp::websocket::encode_frame(opcode::ping, "") == std::string("\x89\x00", 2));
}

TEST_CASE("encode_close carries the code and a reason cut on a character boundary", "[websocket]") {
    CHECK(kp::websocket::encode_close(4008, "slow") == std::string("\x88\x06\x0f\xa8slow", 8));
    std::string const long_reason = std::string(122, 'a') + "\xc3\xa9";   // 124 bytes, é straddles the limit
    auto const frame = kp::websocket::encode_close(1000, long_reason);
    REQUIRE(frame.size() == 2 + 2 + 122);   // é dropped whole
    CHECK(kp::websocket::valid_utf8(frame.substr(4)));
}

TEST_CASE("frame_reader reads masked text frames, whole or byte by byte", "[websocket]") {
    std::string const text = R"({"type":"ping"})";
    std::string const big(70000, 'x');
    std::string const stream = client_frame(fin | 0x1, text) + client_frame(fin | 0x1, big) + client_frame(fin | 0x1, "");
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{512}, stream.size()}) {
        frame_reader reader(100000);
        auto const got = feed(reader, stream, chunk);
        REQUIRE(got.kinds == std::vector{frame_event::kind::text, frame_event::kind::text, frame_event::kind::text});
        CHECK(got.payloads[0] == text);
        CHECK(got.payloads[1] == big);
        CHECK(got.payloads[2].empty());
        CHECK(got.left == 0);
    }
}

TEST_CASE("frame_reader assembles fragments, with control frames between them", "[websocket]") {
    frame_reader reader(1000);
    std::string const stream = client_frame(0x1, "hel") + client_frame(fin | 0x9, "p") + client_frame(0x0, "lo ") +
                               client_frame(fin | 0x0, "world") + client_frame(fin | 0xA, "");
    auto const got = feed(reader, stream, 3);
    REQUIRE(got.kinds == std::vector{frame_event::kind::ping, frame_event::kind::text, frame_event::kind::pong});
    CHECK(got.payloads[0] == "p");
    CHECK(got.payloads[1] == "hello world");
}

TEST_CASE("frame_reader reads close frames: code, reason, or none", "[websocket]") {
    {
        frame_reader reader(1000);
        auto const got = feed(reader, client_frame(fin | 0x8, std::string("\x03\xe8", 2) + "bye"), 100);
        REQUIRE(got.kinds == std::vector{frame_event::kind::close});
        CHECK(got.codes[0] == 1000);
        CHECK(got.payloads[0] == "bye");
    }
    {
        frame_reader reader(1000);
        auto const got = feed(reader, client_frame(fin | 0x8, ""), 100);
        REQUIRE(got.kinds == std::vector{frame_event::kind::close});
        CHECK(got.codes[0] == 1005);
    }
}

TEST_CASE("frame_reader refuses what RFC 6455 forbids, with the code to close with", "[websocket]") {
    struct bad {
        std::string bytes;
        std::uint16_t code;
    };
    std::string unmasked = "\x81\x02hi";
    std::string const cases_text[] = {"unmasked", "rsv", "unknown data opcode", "unknown control opcode",
                                      "fragmented control", "long control", "lone continuation", "interleaved message",
                                      "too big", "too big in fragments", "bad utf-8", "overlong utf-8",
                                      "surrogate utf-8", "one-byte close", "bad close code", "bad close reason",
                                      "non-minimal length"};
    std::vector<bad> const cases{
        {unmasked, 1002},
        {client_frame(fin | 0x40 | 0x1, "x"), 1002},
        {client_frame(fin | 0x3, "x"), 1002},
        {client_frame(fin | 0xB, "x"), 1002},
        {client_frame(0x9, "x"), 1002},
        {client_frame(fin | 0x9, std::string(126, 'x')), 1002},
        {client_frame(fin | 0x0, "x"), 1002},
        {client_frame(0x1, "a") + client_frame(fin | 0x1, "b"), 1002},
        {client_frame(fin | 0x1, std::string(101, 'x')), 1009},
        {client_frame(0x1, std::string(60, 'x')) + client_frame(fin | 0x0, std::string(41, 'x')), 1009},
        {client_frame(fin | 0x1, "\xff"), 1007},
        {client_frame(fin | 0x1, "\xc0\xaf"), 1007},
        {client_frame(fin | 0x1, "\xed\xa0\x80"), 1007},
        {client_frame(fin | 0x8, "\x03"), 1002},
        {client_frame(fin | 0x8, std::string("\x03\xec", 2)), 1002},   // 1004 is reserved
        {client_frame(fin | 0x8, std::string("\x03\xe8\xff", 3)), 1007},
        {std::string("\x81\xfe\x00\x05", 4) + "\x00\x00\x00\x00" + "hello", 1002},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        INFO(cases_text[i]);
        frame_reader reader(100);
        auto const got = feed(reader, cases[i].bytes, 1000);
        REQUIRE(!got.kinds.empty());
        CHECK(got.kinds.back() == frame_event::kind::error);
        CHECK(got.codes.back() == cases[i].code);
    }
}

TEST_CASE("frame_reader refuses an oversized message from its header alone", "[websocket]") {
    frame_reader reader(1000);
    // Only the header of a 1 MiB frame has arrived.
    std::string header = "\x81\xff";
    for (int shift = 56; shift >= 0; shift -= 8) header += static_cast<char>(((std::uint64_t{1} << 20) >> shift) & 0xFF);
    header += "abcd";
    auto const r = reader.read(std::span<char>(header.data(), header.size()));
    CHECK(r.event.what == frame_event::kind::error);
    CHECK(r.event.code == 1009);
}

TEST_CASE("frame_reader says how many bytes it needs", "[websocket]") {
    frame_reader reader(100000);
    auto frame = client_frame(fin | 0x1, std::string(300, 'y'));
    std::string part = frame.substr(0, 2);
    CHECK(reader.read(std::span<char>(part.data(), part.size())).consumed == 0);
    CHECK(reader.wanted() == 8);   // 2 + 2 length bytes + 4 mask bytes
    part = frame.substr(0, 8);
    CHECK(reader.read(std::span<char>(part.data(), part.size())).consumed == 0);
    CHECK(reader.wanted() == 308);
}

TEST_CASE("valid_utf8 follows RFC 3629", "[websocket]") {
    using kp::websocket::valid_utf8;
    CHECK(valid_utf8(""));
    CHECK(valid_utf8("plain ASCII text, long enough for the fast path"));
    CHECK(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));   // é € 😀
    CHECK(valid_utf8("\xf4\x8f\xbf\xbf"));                             // U+10FFFF
    CHECK_FALSE(valid_utf8("\x80"));
    CHECK_FALSE(valid_utf8("\xc3"));                                   // truncated
    CHECK_FALSE(valid_utf8("\xe0\x80\x80"));                           // overlong
    CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));                       // above U+10FFFF
    CHECK_FALSE(valid_utf8("\xf5\x80\x80\x80"));
    CHECK_FALSE(valid_utf8("abcdefgh\xed\xbf\xbf"));                   // a surrogate after the fast path
}

TEST_CASE("accept_key answers the example of RFC 6455 section 1.3", "[websocket]") {
    CHECK(kp::websocket::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(kp::websocket::valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
    CHECK_FALSE(kp::websocket::valid_client_key(""));
    CHECK_FALSE(kp::websocket::valid_client_key("dGhlIHNhbXBsZSBub25jZQ="));
    CHECK_FALSE(kp::websocket::valid_client_key("dGhlIHNhbXBsZSBub25j!Q=="));
}
