#pragma once
// What the webhook endpoints do once the caller is known (PROTOCOL.md section 7): create,
// list, read, change, delete, replay, and the last attempts, on the store and the history.
// Every call may block (store, DNS): run on the blocking pool. Answers are JSON with their
// status, or an error in Kinto's shape; nothing is changed when an error is answered.

#include "server/access/admin_access.hpp"
#include "server/webhooks/webhook_context.hpp"
#include "server/webhooks/webhook_service.hpp"
#include "webhooks/webhook_definition.hpp"
#include "webhooks/webhook_request.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace kp::server {

struct admin_answer {
    unsigned status = 200;
    nlohmann::ordered_json body;   // the answer, or for an error {"errno", "message"}
    int error_errno = 0;           // non-zero: an error
    static admin_answer error(unsigned status, int errno_value, std::string message);
};

class webhook_admin {
public:
    webhook_admin(webhook_context& context, webhook_service& service) : context_(context), service_(service) {}

    admin_answer create(admin_access::caller const& caller, nlohmann::json const& body);
    admin_answer list(admin_access::caller const& caller);
    admin_answer get(admin_access::caller const& caller, std::string const& id);
    admin_answer patch(admin_access::caller const& caller, std::string const& id, nlohmann::json const& body);
    admin_answer remove(admin_access::caller const& caller, std::string const& id);
    admin_answer replay(admin_access::caller const& caller, std::string const& id, nlohmann::json const& body);
    admin_answer deliveries(admin_access::caller const& caller, std::string const& id);

private:
    // The stored webhook the caller may see, or the error to answer (404, 403).
    std::variant<store::stored_webhook, admin_answer> visible(admin_access::caller const& caller, std::string const& id);
    // Why the URL may not be a target (scheme, host, an address refused by the SSRF guard), or nothing.
    std::optional<std::string> refused_target(std::string const& url) const;
    // Where a channel starts: its last offset (from now on), a given position, or after a timestamp.
    std::variant<webhooks::cursor_position, std::string> start_of(std::string const& channel,
                                                                  std::optional<webhooks::since_spec> const& since);
    nlohmann::ordered_json describe(webhooks::webhook_definition const& definition,
                                    std::vector<store::webhook_position> const& positions);

    webhook_context& context_;
    webhook_service& service_;
};

}  // namespace kp::server
