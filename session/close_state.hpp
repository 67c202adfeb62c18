#pragma once
// How one connection ends, as one explicit state machine (RFC 6455 section 7 for WebSocket; an
// SSE stream uses the same phases without waiting for the peer). Socket-free: the transport
// feeds it what happened and does what it answers (start draining, drop the socket).
//
//   open ──close()──▶ closing ──final_written()──▶ final_written ──peer close / no wait──▶ draining ──▶ dropped
//     │  (our final frame queued)                  (wait for the peer's close, grace period)
//     └──io_failed() / tick() past a deadline / drained enough ─────────────────────────────────────────▶ dropped
//
// It also keeps how the connection ended (code and initiator) for the close metric and log.

#include <chrono>
#include <cstdint>
#include <optional>

namespace kp::session {

class close_state {
public:
    using clock = std::chrono::steady_clock;
    enum class phase { open, closing, final_written, draining, dropped };
    // What the transport must do now.
    enum class action { none, start_draining, drop };

    // `grace`: how long a close may wait for a peer that stopped reading; `linger`: how long
    // a drain reads what a closing peer still sends. `wait_for_peer`: false for transports
    // with no closing handshake (SSE): draining starts once the final frame is written.
    close_state(std::chrono::seconds grace, std::chrono::milliseconds linger, bool wait_for_peer = true);

    phase current() const { return phase_; }
    bool is_open() const { return phase_ == phase::open; }
    bool dropped() const { return phase_ == phase::dropped; }
    bool draining() const { return phase_ == phase::draining; }
    bool reader_failed() const { return reader_failed_; }

    // We close with `code`: true when this starts the close (the caller queues its final
    // frame); false when the connection was closing already.
    bool close(std::uint16_t code, clock::time_point now);
    // The peer's close frame arrived (its code; 1005 when it gave none). The caller answers
    // with a close of its own when is_open() was true before this call.
    action peer_close(std::uint16_t code);
    // The peer broke the protocol: there will be no close frame to wait for.
    action protocol_error();
    // Our final frame is written.
    action final_written(clock::time_point now);
    // A read or a write failed, or the peer ended the connection: the socket is gone.
    void io_failed();
    // The socket is closed now, whatever the phase (a silent peer, a refused upgrade).
    void drop() { phase_ = phase::dropped; }
    // The shard's sweep: a close past its deadline is dropped.
    action tick(clock::time_point now);

    // How the connection ended: the code (1006 when nothing was said) and who said it first.
    std::uint16_t code() const { return code_.value_or(1006); }
    char const* initiator() const { return initiator_; }
    // True once: the close was counted when it started (a peer that stopped reading keeps
    // the session for the grace period), so the end does not count it again.
    bool counted() const { return counted_; }
    void mark_counted() { counted_ = true; }

private:
    action start_draining(clock::time_point now);

    std::chrono::seconds grace_;
    std::chrono::milliseconds linger_;
    bool wait_for_peer_;
    phase phase_ = phase::open;
    bool peer_closed_ = false;
    bool reader_failed_ = false;
    bool counted_ = false;
    clock::time_point deadline_{};
    std::optional<std::uint16_t> code_;
    char const* initiator_ = "server";
};

}  // namespace kp::session
