#include "clients/cli/tail_client.hpp"

#include "clients/cli/exit_codes.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace kp::cli {

namespace {

namespace asio = boost::asio;

constexpr std::size_t max_queued_events = 1000;   // reading pauses beyond: the server keeps the rest
constexpr auto shutdown_grace = std::chrono::seconds(5);

std::string describe_close(std::uint16_t code, std::string const& reason) {
    std::string out = std::to_string(code);
    if (!reason.empty()) out += " (" + reason + ")";
    return out;
}

// Writes one line to stdout, whole; false (errno set) when stdout is gone.
bool write_line(std::string const& text) {
    std::string line = text + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

ws_dialer::settings dialer_settings(tail_options const& o) {
    ws_dialer::settings s{o.url, std::nullopt, o.ca_file, o.insecure, "kinto-push-tail/" KINTO_PUSH_VERSION};
    if (o.token) s.authorization = o.token->find(' ') == std::string::npos ? "Bearer " + *o.token : *o.token;
    return s;
}

}  // namespace

tail_client::tail_client(tail_options options, position_store::positions saved)
    : options_(std::move(options)),
      signals_(io_, SIGINT, SIGTERM),
      retry_timer_(io_),
      resubscribe_timer_(io_),
      shutdown_timer_(io_),
      dialer_(io_, dialer_settings(options_)),
      protocol_(options_, std::move(saved), *this),
      resubscribe_backoff_(std::chrono::milliseconds(1000), std::chrono::milliseconds(30'000)) {
    if (options_.exec) runner_.emplace(io_.get_executor(), *options_.exec);
    if (options_.state_file) store_.emplace(*options_.state_file);
}

tail_client::~tail_client() = default;

int tail_client::run() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
        if (!ec) on_signal(sig);
    });
    connect();
    io_.run();
    return exit_code_.value_or(exit_codes::failure);
}

// ---------------------------------------------------------------------------------------------
// Connection

void tail_client::connect() {
    reconnect_when_idle_ = false;
    dialing_ = true;
    dialer_.dial([this](std::shared_ptr<ws_connection> conn, ws_dialer::failure why) { on_dial(std::move(conn), std::move(why)); });
}

void tail_client::on_dial(std::shared_ptr<ws_connection> conn, ws_dialer::failure why) {
    dialing_ = false;
    if (exit_code_) {
        if (conn) conn->abort();
        return maybe_finish();
    }
    if (!conn) {
        if (why.http_status == 401 || why.http_status == 403) return fatal(exit_codes::auth, why.message, 1000);
        if (why.permanent) return fatal(exit_codes::failure, why.message, 1000);
        return schedule_reconnect(why.message, true);
    }
    conn_ = std::move(conn);
    protocol_.connected();
    to_resubscribe_.clear();
    resubscribe_timer_.cancel();
    do_read();
}

void tail_client::do_read() {
    if (reading_ || !conn_ || queue_.size() >= max_queued_events) return;
    reading_ = true;
    conn_->read([this, conn = conn_](ws_connection::read_result r) { on_read(conn, std::move(r)); });
}

void tail_client::on_read(std::shared_ptr<ws_connection> const& conn, ws_connection::read_result r) {
    reading_ = false;
    if (conn != conn_) return;   // a connection we already gave up
    if (!r.ok) return on_closed(r);
    if (exit_code_) return do_read();   // closing: wait for the close frame
    protocol_.receive(std::move(r.text));
    do_read();
}

void tail_client::on_closed(ws_connection::read_result const& r) {
    conn_.reset();
    protocol_.disconnected();
    resubscribe_timer_.cancel();
    if (exit_code_) return maybe_finish();
    std::string what = r.close_code == 1006 ? "connection lost: " + r.error
                                            : "the server closed the connection with " +
                                                  describe_close(r.close_code, r.close_reason);
    switch (r.close_code) {
    case 4001:
        return fatal(exit_codes::auth, what + ": credentials missing, invalid or expired (see --token)", 1000);
    case 4000:
    case 1002:
    case 1003:
    case 1007:
    case 1009:
        return fatal(exit_codes::protocol, what + ": protocol error", 1000);
    case 1008:
        return fatal(exit_codes::failure, what, 1000);
    default:   // 1000, 1001, 1005, 1006, 1011, 1012, 1013, 4008, 4029, ...: resume
        return schedule_reconnect(what, !protocol_.welcomed());
    }
}

void tail_client::schedule_reconnect(std::string const& why, bool attempt_failed) {
    if (attempt_failed) {
        ++failed_attempts_;
        if (options_.max_retries && failed_attempts_ > *options_.max_retries)
            return fatal(exit_codes::unreachable, "could not connect to " + options_.url.str() + " after " +
                                                      std::to_string(*options_.max_retries) + " retries: " + why, 1000);
    }
    auto delay = backoff_.next();
    note(why + "; reconnecting in " + std::to_string(delay.count()) + " ms");
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || exit_code_) return;
        // The position to resume from is the last handled event: first finish the ones taken.
        if (busy()) {
            reconnect_when_idle_ = true;
            return;
        }
        connect();
    });
}

// ---------------------------------------------------------------------------------------------
// What tail_protocol asks

void tail_client::send(std::string frame) {
    conn_->send(std::move(frame));
}

void tail_client::note(std::string const& message) {
    std::cerr << "kinto-push tail: " << message << std::endl;
}

void tail_client::welcomed(std::chrono::seconds idle_timeout) {
    failed_attempts_ = 0;
    backoff_.reset();
    conn_->set_idle_timeout(idle_timeout);
}

void tail_client::subscribed() {
    resubscribe_backoff_.reset();
}

void tail_client::take(event_runner::event e) {
    queue_.push_back(std::move(e));
    process_queue();
}

void tail_client::retry_subscribe(std::string const& channel, std::string const& why) {
    to_resubscribe_.insert(channel);
    auto delay = resubscribe_backoff_.next();
    note(why + "; retrying in " + std::to_string(delay.count()) + " ms");
    resubscribe_timer_.expires_after(delay);
    resubscribe_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || exit_code_ || !conn_) return;
        auto channels = std::move(to_resubscribe_);
        to_resubscribe_.clear();
        for (auto const& c : channels) protocol_.subscribe(c);
    });
}

// ---------------------------------------------------------------------------------------------
// Events

bool tail_client::busy() const {
    return !queue_.empty() || running_;
}

void tail_client::process_queue() {
    while (!queue_.empty() && !exit_code_) {
        if (runner_) {
            if (running_) return;
            running_ = std::move(queue_.front());
            queue_.pop_front();
            runner_->run(*running_, [this](event_runner::outcome o) { on_exec_done(std::move(o)); });
            return;
        }
        if (!write_line(queue_.front().frame))
            return fatal(exit_codes::failure, std::string("cannot write to stdout: ") + std::strerror(errno), 1000);
        auto e = std::move(queue_.front());
        queue_.pop_front();
        commit(e);
    }
    if (exit_code_) return;
    if (!reading_ && conn_ && queue_.size() < max_queued_events / 2) do_read();
    if (!busy() && reconnect_when_idle_ && !conn_ && !dialing_) connect();
}

void tail_client::on_exec_done(event_runner::outcome o) {
    auto e = std::move(*running_);
    running_.reset();
    std::string which = e.channel + " offset " + std::to_string(e.offset);
    if (!o.started) {
        fatal(exit_codes::failure, "--exec could not run for " + which + ": " + o.error, 1000);
        return;
    }
    if (!o.exited && stopping_) {
        // Killed by our shutdown: unfinished, so not saved; the next start runs it again.
        note("--exec stopped for " + which + " (it runs again at the next start)");
        return maybe_finish();
    }
    if (o.exited && o.exit_code != 0)
        note("--exec failed for " + which + ": exit code " + std::to_string(o.exit_code));
    else if (!o.exited)
        note("--exec failed for " + which + ": killed by signal " + std::to_string(o.signal));
    commit(e);
    if (exit_code_) return maybe_finish();
    process_queue();
}

void tail_client::commit(event_runner::event const& e) {
    protocol_.handled(e);
    save();
}

void tail_client::save() {
    if (!store_) return;
    if (auto error = store_->save(protocol_.positions()))
        fatal(exit_codes::failure, "cannot save the state: " + *error, 1000);
}

// ---------------------------------------------------------------------------------------------
// Ending

void tail_client::on_signal(int sig) {
    signals_.async_wait([this](boost::system::error_code ec, int s) {
        if (!ec) on_signal(s);
    });
    if (stopping_) {
        // A second signal: no more waiting.
        note("stopping now");
        if (runner_) runner_->signal(SIGKILL);
        if (conn_) conn_->abort();
        conn_.reset();
        io_.stop();
        return;
    }
    stopping_ = true;
    note(std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
    if (runner_) runner_->signal(SIGTERM);
    fatal(exit_codes::stopped, "", 1000);
}

void tail_client::fatal(int code, std::string const& message, std::uint16_t close_code) {
    if (exit_code_) return;
    exit_code_ = code;
    if (!message.empty()) note(message);
    queue_.clear();
    retry_timer_.cancel();
    resubscribe_timer_.cancel();
    if (dialing_) dialer_.cancel();
    shutdown_timer_.expires_after(shutdown_grace);
    shutdown_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        // A command still running after a signal is killed; after an error it may finish.
        if (runner_ && stopping_) runner_->signal(SIGKILL);
        if (conn_) conn_->abort();
        conn_.reset();
        maybe_finish();
    });
    if (conn_) {
        auto conn = conn_;
        conn->close(close_code, [this, conn] {
            if (conn_ == conn) conn_.reset();
            maybe_finish();
        });
    }
    maybe_finish();
}

void tail_client::maybe_finish() {
    if (!exit_code_ || conn_ || dialing_ || running_) return;
    io_.stop();
}

}  // namespace kp::cli
