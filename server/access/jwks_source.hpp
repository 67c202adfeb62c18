#pragma once
// Keeps the --jwt-jwks-url keys fresh: fetches the JWK Set (auth/jwks_keys parses it) into the
// keyring the JWT verifier reads, at start, every `period`, and when a token names a `kid` the
// set does not hold (refresh()), but never twice within `min_interval` (a stream of tokens with
// made-up kids costs one fetch per interval). A failed fetch or a document with no usable key
// changes nothing: the keys of the last good fetch stay in use, and the outage is logged once,
// its end once.
//
// Everything runs on the executor given to start() (the server's control loop): refresh() may
// be called from any thread and posts there. Fetching is asynchronous (kinto_api, i.e.
// kinto_client's GET): no event loop ever waits for the endpoint.

#include "auth/jwks_keyring.hpp"
#include "server/access/kinto_api.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kp::server {

class jwks_source : public std::enable_shared_from_this<jwks_source> {
public:
    struct settings {
        std::string url;                     // for the log
        std::chrono::seconds min_interval;   // --jwt-jwks-refresh-min
        std::chrono::seconds period;         // --jwt-jwks-refresh
    };
    // Runs on the executor refresh() was given; `fetched` is false when no fetch was made (too
    // soon after the last one, or not started).
    using refreshed = std::function<void(bool fetched)>;

    jwks_source(settings s, std::unique_ptr<kinto_api> http, std::shared_ptr<auth::jwks_keyring> keyring);

    // The first fetch now, then one every period. Call once, on `control`'s thread.
    void start(boost::asio::any_io_executor control);
    // No more fetches; a fetch in flight still lands. On the control thread.
    void stop();

    // A token named an unknown kid: fetch again unless a fetch started less than min_interval
    // ago; `done` runs on `executor` once the fetch in flight (started now or before) ended, at
    // once (posted) otherwise. Any thread.
    void refresh(boost::asio::any_io_executor executor, refreshed done);

    // Whether the last fetch succeeded (false before the first one ends).
    bool reachable() const { return reachable_.load(); }

private:
    void on_control_refresh(boost::asio::any_io_executor executor, refreshed done);
    void fetch();
    void fetched(unsigned status, std::string const& body);
    void schedule();

    settings settings_;
    std::unique_ptr<kinto_api> http_;
    std::shared_ptr<auth::jwks_keyring> keyring_;
    std::atomic<bool> reachable_{false};
    std::atomic<bool> started_{false};

    // Control thread only.
    std::optional<boost::asio::any_io_executor> control_;
    std::unique_ptr<boost::asio::steady_timer> timer_;
    std::optional<std::chrono::steady_clock::time_point> last_fetch_;
    bool in_flight_ = false;
    bool down_ = false;   // an outage is being logged
    std::string last_kids_;
    std::vector<std::pair<boost::asio::any_io_executor, refreshed>> waiting_;
};

}  // namespace kp::server
