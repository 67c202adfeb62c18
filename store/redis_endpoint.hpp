#pragma once
// Where a Redis server is and how to log in: what a `--store redis://…` URL says.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace kp::store {

struct redis_endpoint {
    std::string host;
    std::uint16_t port = 6379;
    int db = 0;
    bool tls = false;                       // rediss://
    std::optional<std::string> username;    // Redis 6 ACL user (AUTH user password)
    std::optional<std::string> password;

    // redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or rediss://… (TLS). Percent-escapes in the
    // user and password are decoded. Returns the endpoint or why the URL is refused.
    static std::variant<redis_endpoint, std::string> parse(std::string const& url);
    // host:port/db, without credentials (for logs and errors).
    std::string describe() const;
};

}  // namespace kp::store
