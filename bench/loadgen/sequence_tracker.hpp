#pragma once
// What one subscriber received of its channel's numbered events: distinct events, exact
// duplicates, and arrivals after a higher number (reordered: several publisher connections may
// reach the server out of order; that is not loss). Loss is computed at the end against the
// numbers the server accepted.

#include "bench/loadgen/seq_set.hpp"

#include <cstdint>

namespace kp::loadgen {

class sequence_tracker {
public:
    enum class outcome { fresh, duplicate, reordered, out_of_range };

    void reset(std::uint64_t max_seq);
    outcome record(std::uint64_t seq);

    std::uint64_t distinct() const { return seen_.size(); }
    std::uint64_t duplicates() const { return duplicates_; }
    std::uint64_t reordered() const { return reordered_; }
    std::uint64_t out_of_range() const { return out_of_range_; }
    std::uint64_t highest() const { return highest_; }
    seq_set::shortfall missing_from(seq_set const& accepted) const { return seen_.missing_from(accepted, highest_); }

private:
    seq_set seen_;
    std::uint64_t highest_ = 0;
    std::uint64_t duplicates_ = 0;
    std::uint64_t reordered_ = 0;
    std::uint64_t out_of_range_ = 0;
};

}  // namespace kp::loadgen
