// kp-deflate-bench: per message size, what permessage-deflate saves on the wire and what it
// costs in CPU, with the server's own code (websocket/message_deflater, message_inflater):
// the frame's bytes plain and compressed at zlib levels 1, 6 and 9, the time to compress one
// message (once per event: the compressed frame is shared by every subscriber) and to
// inflate it (each client's cost, or the server's for a client message).
//
// The texts are real event frames: a stream of Kinto record events (message::from_record
// around Kinto-shaped bodies with random ids, hashes and timestamps, which do not compress),
// cut to each size. Below the smallest event, the cut texts stand for replies of that size.
//
//   build/release/bench/deflate/kp-deflate-bench [--reps 7] [--ms 100]
//
// One thread, hot caches: lower bounds of what the same steps cost inside the server.

#include "channels/message.hpp"
#include "websocket/message_deflater.hpp"
#include "websocket/message_inflater.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
namespace ws = kp::websocket;

std::string hex(std::mt19937_64& rng, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += digits[rng() % 16];
    return s;
}

std::string uuid(std::mt19937_64& rng) {
    return hex(rng, 8) + "-" + hex(rng, 4) + "-" + hex(rng, 4) + "-" + hex(rng, 4) + "-" + hex(rng, 12);
}

// A Remote Settings-like record: keys repeat from record to record, values mostly do not.
std::string record(std::mt19937_64& rng, std::int64_t ts) {
    std::string const id = uuid(rng);
    return R"({"id":")" + id + R"(","last_modified":)" + std::to_string(ts) +
           R"(,"schema":1699999999999,"filter_expression":"env.version|versionCompare('120.0a1') >= 0",)" +
           R"("attachment":{"hash":")" + hex(rng, 64) + R"(","size":)" + std::to_string(rng() % 100000) +
           R"(,"filename":")" + hex(rng, 10) + R"(.bin","location":"main-workspace/collection/)" + uuid(rng) +
           R"(.bin","mimetype":"application/octet-stream"},"name":"entry )" + std::to_string(rng() % 1000) + R"("})";
}

// A stream of Kinto record events, as the server sends them (without frame headers).
std::string event_stream(std::size_t at_least) {
    std::mt19937_64 rng(42);
    std::string out;
    std::int64_t ts = 1733500000000;
    std::uint64_t offset = 1;
    while (out.size() < at_least) {
        ts += static_cast<std::int64_t>(rng() % 5000);
        std::string const old_record = record(rng, ts - 1000);
        std::string const new_record = record(rng, ts);
        std::string const body = R"({"payload":{"timestamp":)" + std::to_string(ts) +
                                 R"(,"action":"update","uri":"/buckets/main/collections/cfr/records/)" + uuid(rng) +
                                 R"(","user_id":"account:admin","resource_name":"record","bucket_id":"main",)" +
                                 R"("collection_id":"cfr","record_id":")" + uuid(rng) +
                                 R"("},"impacted_objects":[{"new":)" + new_record + R"(,"old":)" + old_record + "}]}";
        auto const m = kp::channels::message::from_record("/buckets/main/collections/cfr", offset++, ts, body);
        out += m->frame();
    }
    return out;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Median over `reps` runs of the time per call of `f`, each run about `ms` milliseconds.
template <class F>
double ns_per_call(F&& f, int reps, int ms) {
    std::size_t n = 1;
    for (;;) {   // calibrate
        auto const t0 = clock_type::now();
        for (std::size_t i = 0; i < n; ++i) f();
        auto const spent = clock_type::now() - t0;
        if (spent > std::chrono::milliseconds(ms) / 4) {
            n = static_cast<std::size_t>(double(n) * ms * 1e6 / double(std::chrono::nanoseconds(spent).count()));
            break;
        }
        n *= 2;
    }
    std::vector<double> runs;
    for (int r = 0; r < reps; ++r) {
        auto const t0 = clock_type::now();
        for (std::size_t i = 0; i < std::max<std::size_t>(n, 1); ++i) f();
        runs.push_back(double(std::chrono::nanoseconds(clock_type::now() - t0).count()) / double(std::max<std::size_t>(n, 1)));
    }
    return median(runs);
}

std::size_t frame_size(std::size_t payload) { return ws::frame_header(ws::opcode::text, payload).size() + payload; }

}  // namespace

int main(int argc, char** argv) {
    int reps = 7, ms = 100;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
        else if (std::strcmp(argv[i], "--ms") == 0 && i + 1 < argc) ms = std::max(1, std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "usage: kp-deflate-bench [--reps R] [--ms MS]\n");
            return 2;
        }
    }
    std::size_t const sizes[] = {32, 64, 96, 128, 160, 192, 256, 384, 512, 768, 1024, 1536, 2048, 4096, 16384, 65536};
    std::string const stream = event_stream(65536);
    auto const first_event = stream.find(R"({"type":"event")", 1);
    std::printf("one Kinto record event of the stream: %zu bytes\n\n", first_event);
    std::printf("| payload B | plain frame B | deflated frame B, level 1 / 6 / 9 | saved at 6 | deflate µs, level 1 / 6 / 9 | inflate µs (level 6) |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|\n");
    std::size_t sink = 0;   // printed, so that no call is optimized away
    for (std::size_t size : sizes) {
        std::string const text = stream.substr(0, size);
        std::size_t compressed[3];
        double deflate_us[3];
        int const levels[3] = {1, 6, 9};
        for (int l = 0; l < 3; ++l) {
            compressed[l] = ws::message_deflater::deflate(text, levels[l]).size();
            deflate_us[l] = ns_per_call([&] { sink += ws::message_deflater::deflate(text, levels[l]).size(); }, reps, ms) / 1000;
        }
        std::string const data = ws::message_deflater::deflate(text, 6);
        auto const check = ws::message_inflater::inflate(data, 1 << 24);
        if (check.what != ws::message_inflater::status::ok || check.text != text) {
            std::fprintf(stderr, "round trip failed at %zu bytes\n", size);
            return 1;
        }
        double const inflate_us =
            ns_per_call([&] { sink += ws::message_inflater::inflate(data, 1 << 24).text.size(); }, reps, ms) / 1000;
        std::size_t const plain = frame_size(size);
        auto const framed = [&](std::size_t c) { return ws::frame_header(ws::opcode::text, c, true).size() + c; };
        std::printf("| %zu | %zu | %zu / %zu / %zu | %.0f%% | %.2f / %.2f / %.2f | %.2f |\n", size, plain,
                    framed(compressed[0]), framed(compressed[1]), framed(compressed[2]),
                    100.0 * (1.0 - double(framed(compressed[1])) / double(plain)), deflate_us[0], deflate_us[1],
                    deflate_us[2], inflate_us);
    }
    std::fprintf(stderr, "(checksum %zu)\n", sink);
    return 0;
}
