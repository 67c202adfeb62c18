#include "session/close_state.hpp"

namespace kp::session {

close_state::close_state(std::chrono::seconds grace, std::chrono::milliseconds linger, bool wait_for_peer)
    : grace_(grace), linger_(linger), wait_for_peer_(wait_for_peer) {}

bool close_state::close(std::uint16_t code, clock::time_point now) {
    if (phase_ != phase::open) return false;
    phase_ = phase::closing;
    deadline_ = now + grace_;
    if (!code_) code_ = code;   // initiator stays "server" unless the peer spoke first
    return true;
}

close_state::action close_state::peer_close(std::uint16_t code) {
    peer_closed_ = true;
    if (!code_) {
        code_ = code;
        initiator_ = "client";
    }
    if (phase_ == phase::final_written) return start_draining(clock::now());
    return action::none;
}

close_state::action close_state::protocol_error() {
    reader_failed_ = true;
    if (phase_ == phase::final_written) return start_draining(clock::now());
    return action::none;
}

close_state::action close_state::final_written(clock::time_point now) {
    if (phase_ != phase::closing) return action::none;
    phase_ = phase::final_written;
    // Nothing to wait for when the peer already closed, broke the protocol, or never answers.
    if (peer_closed_ || reader_failed_ || !wait_for_peer_) return start_draining(now);
    return action::none;
}

close_state::action close_state::start_draining(clock::time_point now) {
    if (phase_ == phase::dropped || phase_ == phase::draining) return action::none;
    phase_ = phase::draining;
    deadline_ = now + linger_;
    return action::start_draining;
}

void close_state::io_failed() {
    if (!code_) {
        code_ = 1006;   // the connection ended without a close handshake
        initiator_ = "client";
    }
    phase_ = phase::dropped;
}

close_state::action close_state::tick(clock::time_point now) {
    if (phase_ == phase::open || phase_ == phase::dropped) return action::none;
    if (now < deadline_) return action::none;
    phase_ = phase::dropped;
    return action::drop;
}

}  // namespace kp::session
