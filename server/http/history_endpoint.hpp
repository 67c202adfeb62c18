#pragma once
// GET /v1/history: a channel's stored events after `since`, in pages, decided by the resume
// rule of subscriptions (channel_hub::plan_history), under the same authorization as
// subscribing.

#include "server/http/http_exchange.hpp"
#include "server/server_context.hpp"
#include "session/subscriber_identity.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace kp::server {

using session::subscriber_identity;

class history_endpoint {
public:
    explicit history_endpoint(server_context& context) : context_(context) {}

    // Parameters, then credentials (which may wait for a key set), then authorization, then
    // the read, on the blocking pool: answers at once (a bad parameter) or later.
    void handle(http_request const& request, http_responder respond) const;

private:
    struct history_query {
        unsigned version = 11;
        bool keep_alive = true;
        std::string channel;
        std::uint64_t since = 0;
        std::size_t limit = 100;
        std::optional<std::string> epoch;
    };
    // May `identity` read the channel? Then the read, else the refusal.
    void authorize(subscriber_identity const& identity, history_query const& query,
                   boost::asio::any_io_executor executor, http_responder respond) const;
    // Runs on the blocking pool: the read may touch the disk.
    http_response read(history_query const& query) const;

    server_context& context_;
};

}  // namespace kp::server
