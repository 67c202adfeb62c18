#include "server/ws/upgrade_answer.hpp"

#include "websocket/deflate_negotiation.hpp"
#include "websocket/handshake.hpp"

#include <string>
#include <string_view>

namespace kp::server {

namespace http = boost::beast::http;

upgrade_answer upgrade_answer::to(http::request<http::string_body> const& request, bool compression) {
    upgrade_answer answer;
    if (request[http::field::sec_websocket_version] != "13") {
        answer.response = error_response(426, kinto_errno::invalid_parameters,
                                         "Sec-WebSocket-Version: only 13 is supported", 11, false);
        answer.response.set(http::field::sec_websocket_version, "13");
        return answer;
    }
    auto const key = request[http::field::sec_websocket_key];
    std::string_view const key_text(key.data(), key.size());
    if (!websocket::valid_client_key(key_text)) {
        answer.response = error_response(400, kinto_errno::invalid_parameters,
                                         "Sec-WebSocket-Key: missing or not 16 bytes in base64", 11, false);
        return answer;
    }
    answer.accepted = true;
    auto& r = answer.response;
    r.result(http::status::switching_protocols);
    r.version(11);
    r.set(http::field::server, "kinto-push/" KINTO_PUSH_VERSION);
    r.set(http::field::upgrade, "websocket");
    r.set(http::field::connection, "Upgrade");
    r.set(http::field::sec_websocket_accept, websocket::accept_key(key_text));
    if (!compression) return answer;
    // The offers of every Sec-WebSocket-Extensions line, as one list (RFC 9110 section 5.3).
    std::string offers;
    for (auto [it, end] = request.equal_range(http::field::sec_websocket_extensions); it != end; ++it) {
        if (!offers.empty()) offers += ", ";
        offers.append(it->value().data(), it->value().size());
    }
    if (auto agreed = websocket::deflate_negotiation::answer(offers)) {
        r.set(http::field::sec_websocket_extensions, *agreed);
        answer.deflate = true;
    }
    return answer;
}

}  // namespace kp::server
