#pragma once
// Asks Kinto, over HTTP(S), on behalf of a subscriber: one GET with the subscriber's own
// Authorization header, bounded by a timeout. Asynchronous on the caller's executor (a
// shard), so a slow or dead Kinto never blocks delivery. jwks_source fetches the JWKS with it
// too (base_url the JWKS URL, path "", no Authorization).

#include "server/access/kinto_api.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace kp::server {

class kinto_client final : public kinto_api {
public:
    // `base_url`: http(s)://host[:port][/path], e.g. https://kinto.example.com/v1 (a query
    // string is not sent). Throws std::invalid_argument naming the URL when it cannot be used
    // (the caller names the option).
    explicit kinto_client(std::string const& base_url, std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // GET base_url + path. `done` runs on `executor`.
    void get(boost::asio::any_io_executor executor, std::string const& path, std::string const& authorization,
             completion done) const override;

    std::string const& base_url() const { return base_url_; }

private:
    std::string base_url_;
    bool tls_ = false;
    std::string host_;
    std::string port_;
    std::string base_path_;
    std::chrono::milliseconds timeout_;
    std::shared_ptr<boost::asio::ssl::context> tls_context_;
};

}  // namespace kp::server
