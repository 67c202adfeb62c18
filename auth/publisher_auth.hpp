#pragma once
// Who may POST events: the holder of the publish secret (Authorization: Bearer, compared in
// constant time) or, when no secret is configured, any loopback client.

#include <optional>
#include <string>
#include <string_view>

namespace kp::auth {

class publisher_auth {
public:
    enum class verdict { allowed, missing, invalid };

    explicit publisher_auth(std::optional<std::string> secret) : secret_(std::move(secret)) {}

    // `authorization` is the header's value ("" when absent); `loopback` says the peer
    // address is 127.0.0.0/8 or ::1.
    verdict check(std::string_view authorization, bool loopback) const;

    bool has_secret() const { return secret_.has_value(); }

private:
    std::optional<std::string> secret_;
};

}  // namespace kp::auth
