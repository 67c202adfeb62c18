#include "server/shard.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <cassert>
#include <thread>
#include <vector>

namespace kp::server {

shard::shard(std::size_t index) : index_(index) {}

shard::~shard() {
    stop();
}

bool shard::on_own_thread() const {
    return !thread_.joinable() || thread_.get_id() == std::this_thread::get_id();
}

void shard::add_session(closeable* session) {
    assert(on_own_thread());
    sessions_.insert(session);
    session_count_.fetch_add(1, std::memory_order_relaxed);
}

void shard::remove_session(closeable* session) {
    assert(on_own_thread());
    if (sessions_.erase(session)) session_count_.fetch_sub(1, std::memory_order_relaxed);
}

void shard::shutdown_sessions() {
    boost::asio::post(context_, [this] {
        // shutdown() may end a session at once, which edits the set: walk a copy.
        std::vector<closeable*> all(sessions_.begin(), sessions_.end());
        for (auto* session : all)
            if (sessions_.contains(session)) session->shutdown();
    });
}

void shard::history_lost() {
    boost::asio::post(context_, [this] {
        std::vector<closeable*> all(sessions_.begin(), sessions_.end());
        for (auto* session : all)
            if (sessions_.contains(session)) session->history_lost();
    });
}

void shard::schedule_sweep() {
    sweep_timer_.expires_after(sweep_);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        auto const now = std::chrono::steady_clock::now();
        for (auto* session : sessions_) session->tick(now);   // tick never ends a session synchronously
        schedule_sweep();
    });
}

void shard::start(std::chrono::milliseconds sweep) {
    sweep_ = sweep;
    schedule_sweep();
    work_.emplace(context_.get_executor());
    thread_ = std::thread([this] {
        for (;;) {
            try {
                context_.run();
                return;
            } catch (std::exception const& e) {
                // A handler must not throw; if one does, log it and keep the shard serving.
                spdlog::error("shard {}: unexpected exception: {}", index_, e.what());
            }
        }
    });
}

void shard::stop() {
    work_.reset();
    context_.stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace kp::server
