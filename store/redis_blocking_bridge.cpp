#include "store/redis_blocking_bridge.hpp"

#include "store/store_error.hpp"

#include <boost/asio/post.hpp>

#include <future>
#include <memory>

namespace kp::store {

redis_blocking_bridge::redis_blocking_bridge(boost::asio::io_context& io, std::chrono::milliseconds timeout,
                                             std::string where)
    : io_(io), timeout_(timeout), where_(std::move(where)) {}

std::vector<redis_reply> redis_blocking_bridge::call(std::size_t count, issue send) {
    struct pending {
        std::vector<redis_reply> replies;
        std::size_t left = 0;
        std::promise<void> done;
    };
    auto state = std::make_shared<pending>();
    state->replies.resize(count);
    state->left = count;
    auto future = state->done.get_future();
    if (count == 0) return {};
    // The replies are counted on the loop's thread; the caller reads them once all are in.
    boost::asio::post(io_, [count, send = std::move(send), state] {
        for (std::size_t i = 0; i < count; ++i)
            send(i, [state, i](redis_reply reply) {
                state->replies[i] = std::move(reply);
                if (--state->left == 0) state->done.set_value();
            });
    });
    if (future.wait_for(timeout_) != std::future_status::ready)
        throw store_error(where_ + ": Redis did not answer within " + std::to_string(timeout_.count()) + " ms");
    return std::move(state->replies);
}

}  // namespace kp::store
