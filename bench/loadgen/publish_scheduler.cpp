#include "bench/loadgen/publish_scheduler.hpp"

#include "bench/loadgen/bench_payload.hpp"
#include "bench/loadgen/steady_ns.hpp"

#include <boost/asio/post.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace kp::loadgen {

namespace {

constexpr std::uint64_t step_stride = 1'000'000;   // as in subscriber_connection
constexpr auto tick_period = std::chrono::milliseconds(1);

}  // namespace

publish_scheduler::publish_scheduler(target_protocol const& protocol, std::vector<http_base_url> const& urls,
                                     std::vector<boost::asio::ip::address_v4> const& sources, unsigned connections,
                                     std::size_t payload_bytes, payload_kind payload)
    : protocol_(protocol), payload_bytes_(payload_bytes), payload_(payload), work_(boost::asio::make_work_guard(io_)) {
    for (unsigned i = 0; i < connections; ++i)
        connections_.push_back(
            std::make_shared<publisher_connection>(io_, urls[i % urls.size()], sources[i % sources.size()]));
    thread_ = std::thread([this] { io_.run(); });
}

publish_scheduler::~publish_scheduler() {
    work_.reset();
    io_.stop();
    thread_.join();
}

void publish_scheduler::start(step s) {
    finished_.store(false, std::memory_order_release);
    accepted_.store(0, std::memory_order_relaxed);
    boost::asio::post(io_, [this, s] {
        step_ = s;
        outcome_ = outcome{};
        std::uint64_t const per_channel = (s.events + s.channels - 1) / std::max<std::uint32_t>(s.channels, 1);
        outcome_.accepted_seqs.resize(s.channels);
        for (auto& set : outcome_.accepted_seqs) set.reset(per_channel);
        start_ns_ = steady_ns();
        deadline_ns_ = start_ns_ + static_cast<std::uint64_t>(s.max_seconds * 1e9);
        running_ = true;
        in_flight_ = 0;
        pump();
        tick();
    });
}

std::uint64_t publish_scheduler::due(std::uint64_t now) const {
    if (step_.rate <= 0) return step_.events;
    double const elapsed = static_cast<double>(now - start_ns_) / 1e9;
    auto const n = static_cast<std::uint64_t>(std::floor(elapsed * step_.rate)) + 1;
    return std::min(n, step_.events);
}

void publish_scheduler::tick() {
    if (!running_) return;
    timer_.expires_after(tick_period);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        pump();
        tick();
    });
}

void publish_scheduler::pump() {
    if (!running_) return;
    auto const now = steady_ns();
    if (now >= deadline_ns_) {
        if (outcome_.issued < step_.events) outcome_.cut_short = true;
        running_ = false;
        timer_.cancel();
        check_finished();
        return;
    }
    auto const target = due(now);
    for (auto& c : connections_) {
        if (outcome_.issued >= target) break;
        if (!c->busy()) issue(c);
    }
    if (outcome_.issued >= step_.events) {
        running_ = false;
        timer_.cancel();
        check_finished();
    }
}

void publish_scheduler::issue(std::shared_ptr<publisher_connection> const& c) {
    std::uint64_t const k = outcome_.issued++;
    auto const channel = static_cast<std::uint32_t>(k % step_.channels);
    std::uint64_t const seq = k / step_.channels + 1;
    auto const now = steady_ns();
    if (!outcome_.first_send_ns) outcome_.first_send_ns = now;
    std::uint64_t const field_channel = std::uint64_t{step_.index} * step_stride + channel;
    auto const payload = payload_ == payload_kind::bench
                             ? bench_payload::make(field_channel, seq, now, payload_bytes_)
                             : record_payload::make(payload_, field_channel, seq, now);
    auto const name = target_protocol::channel_name(channel);
    std::string const unique = std::to_string(::getpid()) + "-" + std::to_string(step_.index) + "-" + std::to_string(k);
    ++in_flight_;
    c->send(protocol_.publish(name, payload, unique), [this, c, channel, seq, now](unsigned status) {
        --in_flight_;
        auto const answered = steady_ns();
        outcome_.last_answer_ns = answered;
        outcome_.round_trip.record(answered - now);
        if (protocol_.publish_accepted(status)) {
            outcome_.accepted_seqs[channel].insert(seq);
            ++outcome_.accepted;
            accepted_.fetch_add(1, std::memory_order_relaxed);
        } else {
            ++outcome_.failed;
            ++outcome_.refusals[status];
        }
        if (running_) pump();
        check_finished();
    });
}

void publish_scheduler::check_finished() {
    if (!running_ && in_flight_ == 0 && !finished_.load(std::memory_order_relaxed))
        finished_.store(true, std::memory_order_release);
}

}  // namespace kp::loadgen
