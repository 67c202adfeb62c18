#include "bench/loadgen/sequence_tracker.hpp"

namespace kp::loadgen {

void sequence_tracker::reset(std::uint64_t max_seq) {
    seen_.reset(max_seq);
    highest_ = 0;
    duplicates_ = 0;
    reordered_ = 0;
    out_of_range_ = 0;
}

sequence_tracker::outcome sequence_tracker::record(std::uint64_t seq) {
    if (seq == 0 || seq > seen_.capacity()) {
        ++out_of_range_;
        return outcome::out_of_range;
    }
    if (!seen_.insert(seq)) {
        ++duplicates_;
        return outcome::duplicate;
    }
    if (seq < highest_) {
        ++reordered_;
        return outcome::reordered;
    }
    highest_ = seq;
    return outcome::fresh;
}

}  // namespace kp::loadgen
