#include "bench/loadgen/seq_set.hpp"

#include <algorithm>
#include <bit>

namespace kp::loadgen {

void seq_set::reset(std::uint64_t capacity) {
    capacity_ = capacity;
    size_ = 0;
    words_.assign((capacity + 64) / 64, 0);
}

bool seq_set::contains(std::uint64_t seq) const {
    if (seq == 0 || seq > capacity_) return false;
    return (words_[seq / 64] >> (seq % 64)) & 1u;
}

bool seq_set::insert(std::uint64_t seq) {
    if (seq == 0 || seq > capacity_) return false;
    auto& word = words_[seq / 64];
    auto const bit = std::uint64_t{1} << (seq % 64);
    if (word & bit) return false;
    word |= bit;
    ++size_;
    return true;
}

seq_set::shortfall seq_set::missing_from(seq_set const& expected, std::uint64_t ceiling) const {
    shortfall s;
    auto const n = std::min(words_.size(), expected.words_.size());
    for (std::size_t w = 0; w < expected.words_.size(); ++w) {
        std::uint64_t const lacking = expected.words_[w] & ~(w < n ? words_[w] : 0);
        if (!lacking) continue;
        // split the word at the ceiling: bits <= ceiling are holes, the rest is the tail
        std::uint64_t const first = w * 64;
        if (ceiling >= first + 63) {
            s.below += std::popcount(lacking);
        } else if (ceiling < first) {
            s.above += std::popcount(lacking);
        } else {
            std::uint64_t const low_mask = (std::uint64_t{2} << (ceiling - first)) - 1;
            s.below += std::popcount(lacking & low_mask);
            s.above += std::popcount(lacking & ~low_mask);
        }
    }
    return s;
}

}  // namespace kp::loadgen
