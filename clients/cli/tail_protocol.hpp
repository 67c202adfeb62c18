#pragma once
// The subscription protocol of `kinto-push tail` on one connection, without a socket: the
// subscribe frames (from the saved positions), the server's frames turned into events to
// handle, notes, retries and verdicts, and the positions of the events handled. Its calls and
// its port's run on the client's thread.

#include "clients/cli/event_runner.hpp"
#include "clients/cli/position_store.hpp"
#include "clients/cli/tail_options.hpp"
#include "clients/cli/tail_protocol_port.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kp::cli {

class tail_protocol {
public:
    // `saved`: the positions loaded from --state (empty without it).
    tail_protocol(tail_options const& options, position_store::positions saved, tail_protocol_port& port);

    // A new connection is open: nothing is subscribed yet, and it was not welcomed.
    void connected();
    // The connection is gone: its subscriptions with it.
    void disconnected();
    // Whether the server welcomed the current (or last) connection.
    bool welcomed() const { return welcomed_; }

    // One text frame from the server.
    void receive(std::string text);
    // Sends the subscribe frame of `channel`, from its position if it has one.
    void subscribe(std::string const& channel);

    // `e` was handled (printed, or its command finished): it is the channel's position.
    void handled(event_runner::event const& e);
    // The positions of the events handled: what --state holds.
    position_store::positions const& positions() const { return positions_; }

private:
    // This connection's view of one channel.
    struct subscription {
        std::string request_id;   // of the subscribe in flight; empty once answered
        bool active = false;      // `subscribed` received: its events are ours
        std::string epoch;
        std::uint64_t last_offset = 0;   // the last event taken (queued or handled)
    };

    void on_welcome(nlohmann::json const& frame);
    void on_subscribed(nlohmann::json const& frame);
    void on_event(nlohmann::json const& frame, std::string text);
    void on_error(nlohmann::json const& frame);

    std::vector<std::string> channels_;
    std::string url_;
    bool has_token_;
    tail_protocol_port& port_;
    position_store::positions positions_;

    bool welcomed_ = false;
    std::map<std::string, subscription> subscriptions_;
    std::uint64_t next_id_ = 1;
};

}  // namespace kp::cli
