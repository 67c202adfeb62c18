#include "clients/cli/tail_client.hpp"

#include "clients/cli/exit_codes.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace kp::cli {

namespace {

using json = nlohmann::json;
namespace asio = boost::asio;

constexpr std::size_t max_queued_events = 1000;   // reading pauses beyond: the server keeps the rest
constexpr auto shutdown_grace = std::chrono::seconds(5);

void note(std::string const& message) {
    std::cerr << "kinto-push tail: " << message << std::endl;
}

std::string describe_close(std::uint16_t code, std::string const& reason) {
    std::string out = std::to_string(code);
    if (!reason.empty()) out += " (" + reason + ")";
    return out;
}

std::optional<std::string> string_field(json const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

std::optional<std::uint64_t> unsigned_field(json const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<std::uint64_t>();
}

std::optional<std::int64_t> integer_field(json const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
}

// The id of a frame as the server echoes it: a string, or an integer.
std::string id_of(json const& frame) {
    auto it = frame.find("id");
    if (it == frame.end()) return {};
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return it->dump();
    return {};
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

// Where a client that lost events refetches them from Kinto.
std::string kinto_since_hint(std::string const& channel, std::optional<std::int64_t> timestamp) {
    if (!timestamp) return "the last timestamp is unknown (no event was handled yet): refetch everything from Kinto";
    std::string since = std::to_string(*timestamp);
    if (channel.find("/collections/") != std::string::npos)
        return "last timestamp " + since + ": refetch from Kinto with GET /v1" + channel + "/records?_since=" + since;
    return "last timestamp " + since + ": refetch from Kinto each collection's GET …/records?_since=" + since;
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
      positions_(std::move(saved)),
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
        if (why.http_status == 401 || why.http_status == 403) return fatal(exit_codes::auth, why.message);
        if (why.permanent) return fatal(exit_codes::failure, why.message);
        return schedule_reconnect(why.message, true);
    }
    conn_ = std::move(conn);
    welcomed_ = false;
    subscriptions_.clear();
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
    on_frame(std::move(r.text));
    do_read();
}

void tail_client::on_closed(ws_connection::read_result const& r) {
    conn_.reset();
    subscriptions_.clear();
    resubscribe_timer_.cancel();
    if (exit_code_) return maybe_finish();
    std::string what = r.close_code == 1006 ? "connection lost: " + r.error
                                            : "the server closed the connection with " +
                                                  describe_close(r.close_code, r.close_reason);
    switch (r.close_code) {
    case 4001:
        return fatal(exit_codes::auth, what + ": credentials missing, invalid or expired (see --token)");
    case 4000:
    case 1002:
    case 1003:
    case 1007:
    case 1009:
        return fatal(exit_codes::protocol, what + ": protocol error");
    case 1008:
        return fatal(exit_codes::failure, what);
    default:   // 1000, 1001, 1005, 1006, 1011, 1012, 1013, 4008, 4029, ...: resume
        return schedule_reconnect(what, !welcomed_);
    }
}

void tail_client::schedule_reconnect(std::string const& why, bool attempt_failed) {
    if (attempt_failed) {
        ++failed_attempts_;
        if (options_.max_retries && failed_attempts_ > *options_.max_retries)
            return fatal(exit_codes::unreachable, "could not connect to " + options_.url.str() + " after " +
                                                      std::to_string(*options_.max_retries) + " retries: " + why);
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
// Frames

void tail_client::on_frame(std::string text) {
    auto frame = json::parse(text, nullptr, false);
    auto type = frame.is_object() ? string_field(frame, "type") : std::nullopt;
    if (!type)
        return fatal(exit_codes::protocol, "the server sent a frame that is not a JSON object with a type", 1002);
    if (*type == "event") return on_event(frame, std::move(text));
    if (*type == "welcome") return on_welcome(frame);
    if (*type == "subscribed") return on_subscribed(frame);
    if (*type == "error") return on_error(frame);
    // pong, unsubscribed, authenticated, and types of later versions: nothing to do.
}

void tail_client::on_welcome(json const& frame) {
    welcomed_ = true;
    failed_attempts_ = 0;
    backoff_.reset();
    std::uint64_t heartbeat = unsigned_field(frame, "heartbeat").value_or(25);
    if (heartbeat == 0 || heartbeat > 3600) heartbeat = 25;
    // The server pings every `heartbeat` s: silence for two intervals means a dead connection.
    conn_->set_idle_timeout(std::chrono::seconds(2 * heartbeat + 5));
    note("connected to " + options_.url.str() + " (session " + string_field(frame, "session").value_or("?") +
         ", " + string_field(frame, "server").value_or("unknown server") + ")");
    for (auto const& channel : options_.channels) subscribe(channel);
}

void tail_client::subscribe(std::string const& channel) {
    std::string id = std::to_string(next_id_++);
    json frame = {{"type", "subscribe"}, {"id", id}, {"channel", channel}};
    if (auto it = positions_.find(channel); it != positions_.end())
        frame["since"] = {{"epoch", it->second.epoch}, {"offset", it->second.offset}};
    subscriptions_[channel] = subscription{id, false, {}, 0};
    conn_->send(frame.dump());
}

void tail_client::on_subscribed(json const& frame) {
    auto channel = string_field(frame, "channel");
    if (!channel) return;
    auto sub = subscriptions_.find(*channel);
    if (sub == subscriptions_.end() || sub->second.request_id.empty() || sub->second.request_id != id_of(frame)) return;
    auto epoch = string_field(frame, "epoch");
    auto head = unsigned_field(frame, "offset");
    auto recovered = frame.find("recovered");
    if (!epoch || epoch->empty() || !head || recovered == frame.end() || !recovered->is_boolean())
        return fatal(exit_codes::protocol, "the server sent a malformed subscribed frame for " + *channel, 1002);

    resubscribe_backoff_.reset();
    subscription& s = sub->second;
    s.request_id.clear();
    s.active = true;
    s.epoch = *epoch;
    std::string at = "offset " + std::to_string(*head) + ", epoch " + *epoch;
    auto saved = positions_.find(*channel);
    if (saved == positions_.end()) {
        s.last_offset = *head;
        positions_[*channel] = position{*epoch, *head, std::nullopt};
        save();
        return note("subscribed to " + *channel + " at " + at + " (no saved position: live events only)");
    }
    if (recovered->get<bool>()) {
        s.last_offset = saved->second.offset;
        std::uint64_t replay = *head > saved->second.offset ? *head - saved->second.offset : 0;
        note("subscribed to " + *channel + " at " + at + ", recovered: true (resuming after offset " +
             std::to_string(saved->second.offset) + ", " + std::to_string(replay) + " events to replay)");
        return;
    }
    // The history no longer covers our position: say what to refetch, then carry on from the
    // head, which becomes the saved position.
    position lost = saved->second;
    s.last_offset = *head;
    positions_[*channel] = position{*epoch, *head, lost.timestamp};
    save();
    note("subscribed to " + *channel + " at " + at + ", recovered: false");
    note("RESYNC NEEDED on " + *channel + ": the server no longer has the events after offset " +
         std::to_string(lost.offset) + " (epoch " + lost.epoch + "); " + kinto_since_hint(*channel, lost.timestamp) +
         "; tail carries on from offset " + std::to_string(*head));
}

void tail_client::on_event(json const& frame, std::string text) {
    auto channel = string_field(frame, "channel");
    if (!channel) return;
    auto sub = subscriptions_.find(*channel);
    if (sub == subscriptions_.end() || !sub->second.active) return;
    auto offset = unsigned_field(frame, "offset");
    if (!offset) return fatal(exit_codes::protocol, "the server sent an event without an offset on " + *channel, 1002);
    subscription& s = sub->second;
    if (*offset <= s.last_offset) return;   // already taken
    if (*offset != s.last_offset + 1)
        note("warning: " + *channel + " jumped from offset " + std::to_string(s.last_offset) + " to " +
             std::to_string(*offset) + " (the server lost events?)");
    s.last_offset = *offset;

    event_runner::event e;
    e.channel = *channel;
    e.epoch = s.epoch;
    e.offset = *offset;
    e.timestamp = integer_field(frame, "timestamp");
    if (auto payload = frame.find("payload"); payload != frame.end() && payload->is_object()) {
        e.action = string_field(*payload, "action").value_or("");
        e.uri = string_field(*payload, "uri").value_or("");
    }
    e.frame = std::move(text);
    queue_.push_back(std::move(e));
    process_queue();
}

void tail_client::on_error(json const& frame) {
    std::string code = string_field(frame, "code").value_or("?");
    std::string message = string_field(frame, "message").value_or("");
    std::string id = id_of(frame);
    std::string channel;
    for (auto const& [name, sub] : subscriptions_)
        if (!id.empty() && sub.request_id == id) channel = name;
    if (channel.empty()) return note("the server reported an error: " + code + ": " + message);

    subscriptions_[channel].request_id.clear();
    std::string what = "subscribe to " + channel + " refused: " + code + (message.empty() ? "" : ": " + message);
    if (code == "unauthorized" || code == "forbidden")
        return fatal(exit_codes::auth, what + (options_.token ? "" : " (no --token given)"));
    if (code == "unavailable" || code == "internal") return schedule_resubscribe(channel, what);
    if (code == "too_many_subscriptions") return fatal(exit_codes::failure, what);
    fatal(exit_codes::protocol, what);
}

void tail_client::schedule_resubscribe(std::string const& channel, std::string const& why) {
    to_resubscribe_.insert(channel);
    auto delay = resubscribe_backoff_.next();
    note(why + "; retrying in " + std::to_string(delay.count()) + " ms");
    resubscribe_timer_.expires_after(delay);
    resubscribe_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || exit_code_ || !conn_) return;
        auto channels = std::move(to_resubscribe_);
        to_resubscribe_.clear();
        for (auto const& c : channels) subscribe(c);
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
            return fatal(exit_codes::failure, std::string("cannot write to stdout: ") + std::strerror(errno));
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
        fatal(exit_codes::failure, "--exec could not run for " + which + ": " + o.error);
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
    position& p = positions_[e.channel];
    p.epoch = e.epoch;
    p.offset = e.offset;
    if (e.timestamp) p.timestamp = e.timestamp;
    save();
}

void tail_client::save() {
    if (!store_) return;
    if (auto error = store_->save(positions_)) fatal(exit_codes::failure, "cannot save the state: " + *error);
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
