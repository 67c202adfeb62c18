#pragma once
// The connection loop of `kinto-push tail`: connects, lets tail_protocol subscribe from the
// saved positions and read the server's frames, hands each event to stdout or to --exec
// strictly one at a time and in order, saves the position after each, reconnects with backoff,
// and turns the server's verdicts and the signals it receives into an exit code. Runs on one
// thread, its own io_context.

#include "clients/cli/backoff.hpp"
#include "clients/cli/event_runner.hpp"
#include "clients/cli/position_store.hpp"
#include "clients/cli/tail_options.hpp"
#include "clients/cli/tail_protocol.hpp"
#include "clients/cli/tail_protocol_port.hpp"
#include "clients/cli/ws_connection.hpp"
#include "clients/cli/ws_dialer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace kp::cli {

class tail_client final : private tail_protocol_port {
public:
    // `saved`: the positions loaded from --state (empty without it). Throws at start-up
    // (std::runtime_error) when the TLS settings cannot be loaded.
    tail_client(tail_options options, position_store::positions saved);
    ~tail_client() override;

    // Blocks until the command ends; returns its exit code (exit_codes).
    int run();

private:
    void connect();
    void on_dial(std::shared_ptr<ws_connection> conn, ws_dialer::failure why);
    void do_read();
    void on_read(std::shared_ptr<ws_connection> const& conn, ws_connection::read_result r);
    void on_closed(ws_connection::read_result const& r);

    // tail_protocol_port
    void send(std::string frame) override;
    void note(std::string const& message) override;
    void welcomed(std::chrono::seconds idle_timeout) override;
    void subscribed() override;
    void save() override;
    void take(event_runner::event e) override;
    void retry_subscribe(std::string const& channel, std::string const& why) override;
    // Ends the command with `code` once the running --exec command and the close are done.
    void fatal(int code, std::string const& message, std::uint16_t close_code) override;

    void process_queue();
    void on_exec_done(event_runner::outcome outcome);
    void commit(event_runner::event const& e);

    void schedule_reconnect(std::string const& why, bool attempt_failed);
    void on_signal(int signal);
    void maybe_finish();
    bool busy() const;

    tail_options options_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer resubscribe_timer_;
    boost::asio::steady_timer shutdown_timer_;
    ws_dialer dialer_;
    std::optional<event_runner> runner_;
    std::optional<position_store> store_;
    tail_protocol protocol_;

    std::shared_ptr<ws_connection> conn_;
    bool dialing_ = false;
    bool reading_ = false;
    std::set<std::string> to_resubscribe_;
    std::deque<event_runner::event> queue_;   // taken from the server, not handled yet
    std::optional<event_runner::event> running_;   // the one --exec is running for

    backoff backoff_;
    backoff resubscribe_backoff_;
    std::uint64_t failed_attempts_ = 0;   // in a row, since the last welcome
    bool reconnect_when_idle_ = false;
    bool stopping_ = false;               // SIGINT/SIGTERM received
    std::optional<int> exit_code_;
};

}  // namespace kp::cli
