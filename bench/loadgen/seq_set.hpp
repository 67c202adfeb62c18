#pragma once
// A set of sequence numbers 1..capacity as a bit vector: which events a subscriber received,
// which events the server accepted.

#include <cstdint>
#include <vector>

namespace kp::loadgen {

class seq_set {
public:
    void reset(std::uint64_t capacity);
    std::uint64_t capacity() const { return capacity_; }
    // false when seq is 0 or beyond the capacity
    bool contains(std::uint64_t seq) const;
    // true when seq was not in the set (and is in range)
    bool insert(std::uint64_t seq);
    std::uint64_t size() const { return size_; }
    // How many members of `expected` this set lacks, split into those below and above
    // `ceiling` (the highest seq received: holes, then the missing tail).
    struct shortfall {
        std::uint64_t below = 0;
        std::uint64_t above = 0;
    };
    shortfall missing_from(seq_set const& expected, std::uint64_t ceiling) const;

private:
    std::vector<std::uint64_t> words_;
    std::uint64_t capacity_ = 0;
    std::uint64_t size_ = 0;
};

}  // namespace kp::loadgen
