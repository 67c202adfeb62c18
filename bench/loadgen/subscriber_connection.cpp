#include "bench/loadgen/subscriber_connection.hpp"

#include "bench/loadgen/steady_ns.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include <netinet/in.h>

#include <chrono>

namespace kp::loadgen {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto connect_timeout = std::chrono::seconds(10);
constexpr std::size_t max_frame_bytes = 16 * 1024 * 1024;
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
    open_started_ns_ = steady_ns();
    if (open_started_ns_ < stats_.first_attempt_ns) stats_.first_attempt_ns = open_started_ns_;
    buffer_.clear();
    ws_ = std::make_unique<websocket_stream>(io_);
    ws_->read_message_max(max_frame_bytes);
    ws_->auto_fragment(false);
    ws_->set_option(websocket::stream_base::timeout{std::chrono::seconds(10), websocket::stream_base::none(), false});
    if (plan_.deflate) {
        websocket::permessage_deflate offer;
        offer.client_enable = true;
        ws_->set_option(offer);
    }
    auto const subprotocol = protocol_.subprotocol();
    ws_->set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "kp-loadgen");
        if (!subprotocol.empty()) req.set(beast::http::field::sec_websocket_protocol, subprotocol);
    }));

    // Bind the source address before connecting; IP_BIND_ADDRESS_NO_PORT lets the kernel pick
    // the port at connect time, per destination, so each source address offers ~28k ports to
    // every server port instead of ~28k in all.
    auto& socket = beast::get_lowest_layer(*ws_).socket();
    error_code ec;
    socket.open(tcp::v4(), ec);
    if (!ec) {
        int const one = 1;
        ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        socket.bind(tcp::endpoint(plan_.source, 0), ec);
    }
    if (ec) {
        asio::post(io_, [self = shared_from_this()] { self->fail_open(); });
        return;
    }
    beast::get_lowest_layer(*ws_).expires_after(connect_timeout);
    tcp::endpoint const server(asio::ip::make_address_v4(url_.host), url_.port);
    beast::get_lowest_layer(*ws_).async_connect(server, [self = shared_from_this(), since](error_code e) {
        if (e) return self->fail_open();
        beast::get_lowest_layer(*self->ws_).expires_never();
        self->ws_->async_handshake(
            self->url_.host_header(), self->protocol_.subscribe_target(self->plan_.channel),
            [self, since](error_code he) {
                if (he) return self->fail_open();
                auto frame = self->protocol_.subscribe_frame(self->plan_.channel, since);
                self->read_next();
                if (!frame) {
                    self->on_subscribed();
                    return;
                }
                self->outgoing_ = std::move(*frame);
                self->ws_->text(true);
                self->ws_->async_write(asio::buffer(self->outgoing_), [self](error_code we, std::size_t) {
                    if (we && self->state_ == state::opening) self->fail_open();
                });
            });
    });
}

void subscriber_connection::fail_open() {
    if (state_ != state::opening) return;
    state_ = state::closed;
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    if (ws_) {
        error_code ignored;
        beast::get_lowest_layer(*ws_).socket().close(ignored);
    }
    if (auto done = std::exchange(open_done_, nullptr)) done(false);
}

void subscriber_connection::on_subscribed() {
    if (state_ != state::opening) return;
    state_ = state::live;
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

void subscriber_connection::read_next() {
    ws_->async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) {
        if (ec) {
            if (self->state_ == state::opening) return self->fail_open();
            if (self->state_ == state::live) {
                self->state_ = state::closed;
                self->stats_.dropped.fetch_add(1, std::memory_order_relaxed);
            }
            if (self->state_ == state::closing) self->finish_close();
            return;
        }
        auto const data = self->buffer_.cdata();
        self->on_frame(std::string_view(static_cast<char const*>(data.data()), data.size()));
        self->buffer_.consume(self->buffer_.size());
        if (self->state_ == state::opening || self->state_ == state::live || self->state_ == state::closing)
            self->read_next();
    });
}

void subscriber_connection::on_frame(std::string_view frame) {
    auto const f = protocol_.decode(frame);
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
    state_ = state::closing;
    ws_->async_close(websocket::close_code::normal, [self = shared_from_this()](error_code ec) {
        // the pending read ends with `closed` once the server answered; on a failed close, end it now
        if (ec) {
            error_code ignored;
            beast::get_lowest_layer(*self->ws_).socket().close(ignored);
        }
    });
}

void subscriber_connection::finish_close() {
    state_ = state::closed;
    stats_.closed.fetch_add(1, std::memory_order_relaxed);
    error_code ignored;
    beast::get_lowest_layer(*ws_).socket().close(ignored);
    if (auto d = std::exchange(close_done_, nullptr)) d();
}

}  // namespace kp::loadgen
