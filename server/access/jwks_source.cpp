#include "server/access/jwks_source.hpp"

#include "auth/jwks_keys.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace kp::server {

namespace asio = boost::asio;

jwks_source::jwks_source(settings s, std::unique_ptr<kinto_api> http, std::shared_ptr<auth::jwks_keyring> keyring)
    : settings_(std::move(s)), http_(std::move(http)), keyring_(std::move(keyring)) {}

void jwks_source::start(asio::any_io_executor control) {
    control_ = control;
    timer_ = std::make_unique<asio::steady_timer>(control);
    started_.store(true);
    fetch();
    schedule();
}

void jwks_source::stop() {
    started_.store(false);
    timer_.reset();   // its wait completes, aborted
}

void jwks_source::schedule() {
    if (!timer_) return;
    timer_->expires_after(settings_.period);
    timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->timer_) return;
        if (!self->in_flight_) self->fetch();
        self->schedule();
    });
}

void jwks_source::refresh(asio::any_io_executor executor, refreshed done) {
    if (!started_.load()) {
        if (done) asio::post(executor, [done = std::move(done)] { done(false); });
        return;
    }
    asio::post(*control_, [self = shared_from_this(), executor, done = std::move(done)]() mutable {
        self->on_control_refresh(std::move(executor), std::move(done));
    });
}

void jwks_source::on_control_refresh(asio::any_io_executor executor, refreshed done) {
    auto const now = std::chrono::steady_clock::now();
    bool const too_soon = last_fetch_ && now - *last_fetch_ < settings_.min_interval;
    if (!in_flight_ && (too_soon || !timer_)) {
        if (done) asio::post(executor, [done = std::move(done)] { done(false); });
        return;
    }
    if (done) waiting_.emplace_back(std::move(executor), std::move(done));
    if (!in_flight_) {
        spdlog::debug("JWKS {}: a token names an unknown kid: fetching the keys again", settings_.url);
        fetch();
    }
}

void jwks_source::fetch() {
    in_flight_ = true;
    last_fetch_ = std::chrono::steady_clock::now();
    http_->get(*control_, "", "", [self = shared_from_this()](unsigned status, std::string body) {
        self->fetched(status, body);
    });
}

void jwks_source::fetched(unsigned status, std::string const& body) {
    in_flight_ = false;
    std::string failure;
    if (status == 0) {
        failure = "no answer";
    } else if (status != 200) {
        failure = "HTTP " + std::to_string(status);
    } else {
        auto parsed = auth::jwks_keys::parse(body);
        if (auto const* why = std::get_if<std::string>(&parsed)) {
            failure = *why;
        } else {
            auto keys = std::make_shared<auth::jwks_keys const>(std::get<auth::jwks_keys>(std::move(parsed)));
            for (auto const& skipped : keys->skipped()) spdlog::debug("JWKS {}: {} (skipped)", settings_.url, skipped);
            std::string kids = keys->describe();
            if (kids != last_kids_) spdlog::info("JWKS {}: keys {}", settings_.url, kids);
            last_kids_ = std::move(kids);
            keyring_->replace(std::move(keys));
        }
    }
    if (failure.empty()) {
        if (down_) spdlog::info("JWKS {}: fetched again; its keys are current", settings_.url);
        down_ = false;
        reachable_.store(true);
    } else {
        if (!down_) {
            auto held = keyring_->current();
            spdlog::warn("JWKS {}: cannot be fetched ({}); {} until it can", settings_.url, failure,
                         held ? "the keys fetched before (" + held->describe() + ") are used"
                              : std::string("tokens signed with its keys are refused"));
        }
        down_ = true;
        reachable_.store(false);
    }
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& [executor, done] : waiting) asio::post(executor, [done = std::move(done)] { done(true); });
}

}  // namespace kp::server
