#pragma once
// What subscriber_access needs of Kinto: one asynchronous GET on a subscriber's behalf, with
// the subscriber's own Authorization value. kinto_client speaks it over HTTP(S); a test gives
// subscriber_access a scripted one.

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <string>

namespace kp::server {

class kinto_api {
public:
    // `status` is the HTTP status, or 0 when Kinto could not be reached or answered too late.
    using completion = std::function<void(unsigned status, std::string body)>;

    virtual ~kinto_api() = default;

    // GET {Kinto's base URL} + path. `done` runs on `executor`, never before get() returns.
    virtual void get(boost::asio::any_io_executor executor, std::string const& path, std::string const& authorization,
                     completion done) const = 0;
};

}  // namespace kp::server
