#include "server/http/webhook_endpoint.hpp"

#include "channels/json_document.hpp"
#include "server/webhooks/webhook_admin.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>

namespace kp::server {

namespace http = boost::beast::http;
using json = nlohmann::json;

namespace {

constexpr std::string_view root = "/v1/webhooks";

}  // namespace

bool webhook_endpoint::serves(std::string const& path) {
    return path == root || path == std::string(root) + "/" || path.starts_with(std::string(root) + "/");
}

void webhook_endpoint::handle(http_request const& request, http_peer const& peer, std::string const& path,
                              http_responder respond) const {
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    auto error = [&](unsigned status, int errno_value, std::string const& message) {
        auto response = error_response(status, errno_value, message, version, keep_alive);
        if (status == 401) response.set(http::field::www_authenticate, "Bearer");
        respond(std::move(response));
    };
    if (!context_.webhooks)
        return error(404, kinto_errno::missing_resource, "webhooks are not served by this server");

    // /v1/webhooks, /v1/webhooks/{id}, /v1/webhooks/{id}/deliveries, /v1/webhooks/{id}/replay
    std::string rest = path.size() > root.size() ? path.substr(root.size() + 1) : "";
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    std::string id = rest.substr(0, rest.find('/'));
    std::string const sub = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
    if (sub.find('/') != std::string::npos || (!sub.empty() && sub != "deliveries" && sub != "replay"))
        return error(404, kinto_errno::missing_resource, "no such endpoint: " + path);

    auto const verb = request.method();
    enum class operation { create, list, get, patch, remove, replay, deliveries } op;
    if (id.empty()) {
        if (verb == http::verb::post) op = operation::create;
        else if (verb == http::verb::get || verb == http::verb::head) op = operation::list;
        else return error(405, kinto_errno::method_not_allowed, "method not allowed");
    } else if (sub.empty()) {
        if (verb == http::verb::get || verb == http::verb::head) op = operation::get;
        else if (verb == http::verb::patch) op = operation::patch;
        else if (verb == http::verb::delete_) op = operation::remove;
        else return error(405, kinto_errno::method_not_allowed, "method not allowed");
    } else if (sub == "replay") {
        if (verb != http::verb::post) return error(405, kinto_errno::method_not_allowed, "method not allowed");
        op = operation::replay;
    } else {
        if (verb != http::verb::get && verb != http::verb::head)
            return error(405, kinto_errno::method_not_allowed, "method not allowed");
        op = operation::deliveries;
    }

    auto const now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    auto who = context_.admin->identify(request[http::field::authorization], peer.loopback, now);
    if (auto const* verdict = std::get_if<admin_verdict>(&who)) {
        if (*verdict == admin_verdict::unauthorized)
            return error(401, kinto_errno::missing_auth_token, "admin credentials are required");
        return error(403, kinto_errno::forbidden, "these credentials do not allow webhooks");
    }
    auto caller = std::get<admin_access::caller>(std::move(who));

    json body;
    bool const with_body = op == operation::create || op == operation::patch || op == operation::replay;
    if (with_body) {
        if (request.body().size() > max_body_bytes)
            return error(413, kinto_errno::request_too_large,
                         "a webhook request body may not exceed " + std::to_string(max_body_bytes) + " bytes");
        auto parsed = channels::parse_json_document(request.body());
        if (!parsed) return error(400, kinto_errno::bad_json, "the body is not valid JSON");
        body = json::parse(parsed->dump());   // small: the ordered document into the request parser's type
    }

    boost::asio::post(context_.blocking, [admin = context_.webhooks, op, caller = std::move(caller),
                                          id = std::move(id), body = std::move(body), respond, version, keep_alive] {
        admin_answer answer;
        try {
            switch (op) {
            case operation::create: answer = admin->create(caller, body); break;
            case operation::list: answer = admin->list(caller); break;
            case operation::get: answer = admin->get(caller, id); break;
            case operation::patch: answer = admin->patch(caller, id, body); break;
            case operation::remove: answer = admin->remove(caller, id); break;
            case operation::replay: answer = admin->replay(caller, id, body); break;
            case operation::deliveries: answer = admin->deliveries(caller, id); break;
            }
        } catch (std::exception const& e) {   // store_error: the store is away
            answer = admin_answer::error(503, kinto_errno::backend, std::string("the store did not answer: ") + e.what());
        }
        if (answer.error_errno)
            return respond(error_response(answer.status, answer.error_errno, answer.body.value("message", ""), version,
                                          keep_alive));
        respond(text_response(answer.status, "application/json", answer.body.dump(), version, keep_alive));
    });
}

}  // namespace kp::server
