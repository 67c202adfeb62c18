#pragma once
// The benchmark's own message: a JSON object carrying the channel index, the per-channel
// sequence number and the sending time (steady clock, ns), padded to a fixed size:
//   {"lg_ch":3,"lg_seq":17,"lg_ts":123456789,"pad":"xxxx…"}
// Subscribers find those numbers with a scan for `"lg_` keys, without parsing the JSON (the
// server may reorder keys or wrap the object: kinto-push puts it inside the record).

#include <cstdint>
#include <string>
#include <string_view>

namespace kp::loadgen {

struct bench_fields {
    std::int64_t channel = -1;
    std::int64_t seq = -1;
    std::int64_t sent_ns = -1;
    bool complete() const { return channel >= 0 && seq >= 0 && sent_ns >= 0; }
};

class bench_payload {
public:
    // The object, padded with "x" to `bytes` when it is shorter.
    static std::string make(std::uint64_t channel, std::uint64_t seq, std::uint64_t sent_ns, std::size_t bytes);
    // Fills `out` from the first lg_ch, lg_seq and lg_ts found in `text`; true when all three were.
    static bool scan(std::string_view text, bench_fields& out);
};

}  // namespace kp::loadgen
