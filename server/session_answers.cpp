#include "server/session_answers.hpp"

#include "store/store_error.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace kp::server::session_answers {

namespace asio = boost::asio;

session::session_settings session_settings_of(server_context const& context) {
    session::session_settings settings;
    settings.max_subscriptions = context.config.max_subscriptions;
    settings.development_mode = context.access.development_mode();
    settings.recheck_ms = context.access.has_kinto() ? context.config.kinto_recheck_s * 1000 : 0;
    return settings;
}

void authorize(server_context& context, asio::any_io_executor executor, std::shared_ptr<void const> keep,
               session::subscriber_identity const& identity, std::string const& channel,
               session::session_port::decided done) {
    context.access.authorize(identity, channel, std::move(executor),
                             [keep = std::move(keep), done = std::move(done)](session::access_decision decision) {
                                 done(decision);
                             });
}

void recheck(server_context& context, asio::any_io_executor executor, std::shared_ptr<void const> keep,
             session::subscriber_identity const& identity, std::string const& channel,
             session::session_port::decided done) {
    context.access.recheck(identity, channel, std::move(executor),
                           [keep = std::move(keep), done = std::move(done)](session::access_decision decision) {
                               done(decision);
                           });
}

std::int64_t steady_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void locate(server_context& context, asio::any_io_executor executor, std::shared_ptr<void const> keep,
            std::string const& channel, std::int64_t timestamp, session::session_port::located done) {
    asio::post(context.blocking, [keep = std::move(keep), executor = std::move(executor), &context, channel,
                                  timestamp, done = std::move(done)]() mutable {
        std::optional<store::timestamp_position> position;
        try {
            position = context.hub.history().position_after(channel, timestamp);
        } catch (store::store_error const& e) {
            spdlog::error("locating {} in {}: {}", timestamp, channel, e.what());
        }
        // The reference moves back with the answer: the session must end on its shard.
        asio::post(executor, [keep = std::move(keep), done = std::move(done), position] { done(position); });
    });
}

void read_page(server_context& context, asio::any_io_executor executor, std::shared_ptr<void const> keep,
               std::string const& channel, std::uint64_t after, std::size_t limit, bool deflate,
               session::session_port::paged done) {
    asio::post(context.blocking, [keep = std::move(keep), executor = std::move(executor), &context, channel, after,
                                  limit, deflate, done = std::move(done)]() mutable {
        std::vector<channels::message_ptr> page;
        bool failed = false;
        try {
            page = context.hub.read(channel, after, limit);
        } catch (store::store_error const& e) {
            spdlog::error("reading {} from the store: {}", channel, e.what());
            failed = true;
        }
        // Events read from the disk are this page's own: compress them here, off the shard
        // (those of the memory tail are shared, and most often compressed already).
        if (deflate)
            for (auto const& m : page) m->deflated();
        // The reference moves back with the page: the session must end on its shard.
        asio::post(executor, [keep = std::move(keep), done = std::move(done), page = std::move(page), failed]() mutable {
            done(std::move(page), failed);
        });
    });
}

}  // namespace kp::server::session_answers
