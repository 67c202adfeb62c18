#include "session/send_queue.hpp"

namespace kp::session {

send_queue::send_queue(std::size_t limit, metrics::gauge* bytes_gauge) : limit_(limit), gauge_(bytes_gauge) {}

send_queue::~send_queue() {
    count(-static_cast<std::int64_t>(bytes_));
}

void send_queue::count(std::int64_t delta) {
    if (gauge_ && delta != 0) gauge_->add(delta);
}

bool send_queue::push(frame_ptr frame) {
    if (sealed_) return over_limit();
    bytes_ += frame->size();
    count(static_cast<std::int64_t>(frame->size()));
    frames_.push_back(std::move(frame));
    return over_limit();
}

bool send_queue::too_slow_for_batch(std::uint64_t batch) {
    if (batch == last_batch_) return false;
    last_batch_ = batch;
    return over_limit();
}

void send_queue::seal(frame_ptr last) {
    if (sealed_) return;
    while (frames_.size() > in_flight_) {
        bytes_ -= frames_.back()->size();
        count(-static_cast<std::int64_t>(frames_.back()->size()));
        frames_.pop_back();
    }
    if (last) push(std::move(last));
    sealed_ = true;
}

void send_queue::written() {
    for (std::size_t i = 0; i < in_flight_ && !frames_.empty(); ++i) {
        bytes_ -= frames_.front()->size();
        count(-static_cast<std::int64_t>(frames_.front()->size()));
        frames_.pop_front();
    }
    in_flight_ = 0;
}

}  // namespace kp::session
