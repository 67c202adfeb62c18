#include "bench/loadgen/bench_payload.hpp"

#include <cstring>

namespace kp::loadgen {

namespace {

// Reads an unsigned decimal number at `p`, after optional spaces; -1 when there is none.
std::int64_t number_at(char const* p, char const* end) {
    while (p < end && *p == ' ') ++p;
    std::int64_t v = -1;
    while (p < end && *p >= '0' && *p <= '9') {
        v = (v < 0 ? 0 : v * 10) + (*p - '0');
        ++p;
    }
    return v;
}

}  // namespace

std::string bench_payload::make(std::uint64_t channel, std::uint64_t seq, std::uint64_t sent_ns, std::size_t bytes) {
    std::string s;
    s.reserve(bytes > 64 ? bytes : 64);
    s += R"({"lg_ch":)";
    s += std::to_string(channel);
    s += R"(,"lg_seq":)";
    s += std::to_string(seq);
    s += R"(,"lg_ts":)";
    s += std::to_string(sent_ns);
    s += R"(,"pad":")";
    constexpr std::size_t closing = 2;   // "}
    if (s.size() + closing < bytes) s.append(bytes - s.size() - closing, 'x');
    s += "\"}";
    return s;
}

bool bench_payload::scan(std::string_view text, bench_fields& out) {
    static constexpr char key[] = "\"lg_";
    char const* p = text.data();
    char const* const end = p + text.size();
    int found = 0;
    while (found < 3) {
        auto const* hit = static_cast<char const*>(memmem(p, static_cast<std::size_t>(end - p), key, 4));
        if (!hit) break;
        p = hit + 4;
        // lg_ch":  lg_seq":  lg_ts":
        auto field = [&](char const* name, std::size_t len, std::int64_t& slot) {
            if (static_cast<std::size_t>(end - p) < len + 2 || std::memcmp(p, name, len) != 0 || p[len] != '"' ||
                p[len + 1] != ':')
                return false;
            if (slot < 0) {
                slot = number_at(p + len + 2, end);
                if (slot >= 0) ++found;
            }
            p += len + 2;
            return true;
        };
        if (!field("ch", 2, out.channel) && !field("seq", 3, out.seq)) field("ts", 2, out.sent_ns);
    }
    return out.complete();
}

}  // namespace kp::loadgen
