#pragma once
// Realistic record contents for the bench events (--payload typical|large), carrying the bench
// numbers (lg_ch, lg_seq, lg_ts, as bench_payload does) among ordinary fields, so that the
// bytes on the wire and the work of compressing them are those of real Kinto records:
//   typical: a record with a handful of fields (a title, a status, tags, a date...), about 250
//            bytes; inside kinto-push's record event the delivered frame is about 600 bytes;
//   large:   about 32 KiB: a description of a few paragraphs and a list of line items, the
//            text drawn from a vocabulary of common words (it compresses like prose and JSON
//            do, about 3-5x, not like padding), different for every event.
// Deterministic: the same numbers give the same text.

#include <cstdint>
#include <string>

namespace kp::loadgen {

enum class payload_kind { bench, typical, large };

class record_payload {
public:
    static constexpr std::size_t large_bytes = 32 * 1024;
    // A JSON object; `kind` is typical or large.
    static std::string make(payload_kind kind, std::uint64_t channel, std::uint64_t seq, std::uint64_t sent_ns);
};

}  // namespace kp::loadgen
