#include "bench/loadgen/subscriber_connection.hpp"

#include "bench/loadgen/steady_ns.hpp"

#include <boost/asio/post.hpp>

#include <netinet/in.h>

#include <chrono>

namespace kp::loadgen {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// From the first connect to subscribed: the connect, the upgrade or request, the subscription.
constexpr auto open_timeout = std::chrono::seconds(10);
// The payload's channel field carries the saturation step too: step * step_stride + channel.
constexpr std::uint64_t step_stride = 1'000'000;

}  // namespace

subscriber_connection::subscriber_connection(asio::io_context& io, plan p, target_protocol const& protocol,
                                             http_base_url const& url, subscriber_stats& stats)
    : io_(io), plan_(std::move(p)), protocol_(protocol), url_(url), stats_(stats) {}

void subscriber_connection::open(std::optional<resume_position> since, std::function<void(bool)> done) {
    open_done_ = std::move(done);
    state_ = state::opening;
    resuming_ = since.has_value();
    replay_done_ = false;
    fd_ = -1;
    open_started_ns_ = steady_ns();
    if (open_started_ns_ < stats_.first_attempt_ns) stats_.first_attempt_ns = open_started_ns_;

    // Bind the source address before connecting; IP_BIND_ADDRESS_NO_PORT lets the kernel pick
    // the port at connect time, per destination, so each source address offers ~28k ports to
    // every server port instead of ~28k in all.
    connecting_ = std::make_shared<tcp::socket>(io_);
    error_code ec;
    connecting_->open(tcp::v4(), ec);
    if (!ec) {
        int const one = 1;
        ::setsockopt(connecting_->native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        connecting_->bind(tcp::endpoint(plan_.source, 0), ec);
    }
    if (ec) {
        asio::post(io_, [self = shared_from_this()] { self->fail_open(); });
        return;
    }
    // Bounds the whole opening: a connection not subscribed by then fails (its socket closed).
    open_timer_.expires_after(open_timeout);
    open_timer_.async_wait([self = shared_from_this()](error_code e) {
        if (!e && self->state_ == state::opening) self->fail_open();
    });
    tcp::endpoint const server(asio::ip::make_address_v4(url_.host), url_.port);
    connecting_->async_connect(server, [self = shared_from_this(), socket = connecting_, since](error_code e) {
        if (self->state_ != state::opening || self->connecting_ != socket) return;
        self->connecting_.reset();
        if (e) return self->fail_open();
        self->fd_ = socket->native_handle();
        self->start(std::move(*socket), since);
    });
}

void subscriber_connection::drop_socket() {
    if (connecting_) {
        error_code ignored;
        connecting_->close(ignored);   // the pending connect ends with operation_aborted
        connecting_.reset();
    }
    if (fd_ >= 0) close_socket();
    fd_ = -1;
}

void subscriber_connection::fail_open() {
    if (state_ != state::opening) return;
    state_ = state::closed;
    open_timer_.cancel();
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    drop_socket();
    if (auto done = std::exchange(open_done_, nullptr)) done(false);
}

void subscriber_connection::on_subscribed() {
    if (state_ != state::opening) return;
    state_ = state::live;
    open_timer_.cancel();
    auto const now = steady_ns();
    stats_.setup.record(now - open_started_ns_);
    if (now > stats_.last_subscribed_ns) stats_.last_subscribed_ns = now;
    stats_.opened.fetch_add(1, std::memory_order_relaxed);
    if (resuming_ && replay_target_ <= (position_ ? position_->offset : 0)) {
        replay_done_ = true;
        stats_.resume_time.record(now - open_started_ns_);
        stats_.resumed.fetch_add(1, std::memory_order_relaxed);
    }
    if (auto done = std::exchange(open_done_, nullptr)) done(true);
}

void subscriber_connection::read_ended() {
    if (state_ == state::opening) return fail_open();
    if (state_ == state::live) {
        state_ = state::closed;
        stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    }
    if (state_ == state::closing) finish_close();
}

void subscriber_connection::handle(received_frame const& f) {
    switch (f.type) {
    case received_frame::kind::event:
        on_event(f, steady_ns());
        break;
    case received_frame::kind::subscribed:
        if (resuming_) {
            // recovered:false means nothing will be replayed: the resume ends here (and the
            // run reports it as not recovered)
            replay_target_ = f.recovered ? f.offset : (position_ ? position_->offset : 0);
            if (!f.recovered) ++stats_.not_recovered;
        } else {
            position_ = f.position;
        }
        on_subscribed();
        break;
    case received_frame::kind::error:
        ++stats_.error_frames;
        if (state_ == state::opening) fail_open();
        break;
    case received_frame::kind::other:
        break;
    }
}

void subscriber_connection::on_event(received_frame const& f, std::uint64_t now) {
    if (resuming_ && !replay_done_) {
        // kinto-push replay: offsets must follow the last one known, one by one
        std::uint64_t const last = position_ ? position_->offset : 0;
        if (f.offset == last + 1) {
            ++stats_.replayed;
            position_->offset = f.offset;
        } else if (f.offset <= last) {
            ++stats_.replay_duplicates;
        } else {
            ++stats_.replay_gaps;
            stats_.replayed += 1;
            position_->offset = f.offset;
        }
        if (position_->offset >= replay_target_ && state_ == state::live) {
            replay_done_ = true;
            stats_.resume_time.record(now - open_started_ns_);
            stats_.resumed.fetch_add(1, std::memory_order_relaxed);
        }
        return;
    }
    if (position_ && f.offset) position_->offset = f.offset;
    if (!f.fields.complete()) return;
    auto const field_channel = static_cast<std::uint64_t>(f.fields.channel);
    if (field_channel / step_stride != step_ || field_channel % step_stride != plan_.channel_index) {
        ++stats_.stale_frames;
        return;
    }
    tracker_.record(static_cast<std::uint64_t>(f.fields.seq));
    auto const sent = static_cast<std::uint64_t>(f.fields.sent_ns);
    stats_.latency.record(now > sent ? now - sent : 0);
    stats_.deliveries.fetch_add(1, std::memory_order_relaxed);
    stats_.last_delivery_ns.store(now, std::memory_order_relaxed);
}

void subscriber_connection::track(std::uint32_t step, std::uint64_t max_seq) {
    step_ = step;
    tracker_.reset(max_seq);
}

wire_counters subscriber_connection::wire() const {
    return state_ == state::live || state_ == state::closing ? wire_counters::of_socket(fd_) : wire_counters{};
}

void subscriber_connection::close(std::function<void()> done) {
    close_done_ = std::move(done);
    if (state_ != state::live && state_ != state::opening) {
        state_ = state::closed;
        stats_.closed.fetch_add(1, std::memory_order_relaxed);
        asio::post(io_, [self = shared_from_this()] {
            if (auto d = std::exchange(self->close_done_, nullptr)) d();
        });
        return;
    }
    bool const was_open = state_ == state::live;
    state_ = state::closing;
    open_timer_.cancel();
    if (was_open) return shut();
    // still opening: no close handshake, the socket goes at once (its reads, if any, end)
    bool const reads = fd_ >= 0;
    drop_socket();
    if (!reads) finish_close();
}

void subscriber_connection::finish_close() {
    state_ = state::closed;
    stats_.closed.fetch_add(1, std::memory_order_relaxed);
    drop_socket();
    if (auto d = std::exchange(close_done_, nullptr)) d();
}

}  // namespace kp::loadgen
