#include "bench/loadgen/client_thread.hpp"

#include "bench/loadgen/sse_subscriber.hpp"
#include "bench/loadgen/ws_subscriber.hpp"

#include <boost/asio/post.hpp>

#include <future>

namespace kp::loadgen {

client_thread::client_thread(target_protocol const& protocol, http_base_url const& url, transport_kind transport)
    : protocol_(protocol), url_(url), transport_(transport), work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

client_thread::~client_thread() {
    work_.reset();
    io_.stop();
    thread_.join();
}

void client_thread::add(subscriber_connection::plan p) {
    // only before open_all: the thread has nothing of its own yet that could race
    boost::asio::post(io_, [this, p = std::move(p)]() mutable {
        if (transport_ == transport_kind::sse)
            connections_.push_back(std::make_shared<sse_subscriber>(io_, std::move(p), protocol_, url_, stats_));
        else
            connections_.push_back(std::make_shared<ws_subscriber>(io_, std::move(p), protocol_, url_, stats_,
                                                                   transport_ == transport_kind::ws_deflate));
    });
}

void client_thread::open_all(unsigned in_flight, bool resume) {
    boost::asio::post(io_, [this, in_flight, resume] {
        in_flight_ = in_flight ? in_flight : 1;
        resume_ = resume;
        next_to_open_ = 0;
        opening_ = 0;
        open_next();
    });
}

void client_thread::open_next() {
    while (opening_ < in_flight_ && next_to_open_ < connections_.size()) {
        auto& c = connections_[next_to_open_++];
        ++opening_;
        std::optional<resume_position> since;
        if (resume_) since = c->position();
        c->open(since, [this](bool) {
            --opening_;
            open_next();
        });
    }
}

void client_thread::close_all() {
    boost::asio::post(io_, [this] {
        for (auto& c : connections_) c->close([] {});
    });
}

bool client_thread::run_sync(
    std::function<void(std::vector<std::shared_ptr<subscriber_connection>>&, subscriber_stats&)> f,
    std::chrono::milliseconds timeout) {
    auto done = std::make_shared<std::promise<void>>();
    auto result = done->get_future();
    boost::asio::post(io_, [this, f = std::move(f), done] {
        f(connections_, stats_);
        done->set_value();
    });
    return result.wait_for(timeout) == std::future_status::ready;
}

}  // namespace kp::loadgen
