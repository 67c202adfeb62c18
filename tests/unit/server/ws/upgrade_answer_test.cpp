// server/ws/upgrade_answer: the 101 or the refusal, and the permessage-deflate answer.

#include "server/ws/upgrade_answer.hpp"

#include <catch2/catch.hpp>

using kp::server::upgrade_answer;
namespace http = boost::beast::http;

namespace {

http::request<http::string_body> upgrade(std::vector<std::string> const& extensions = {}) {
    http::request<http::string_body> r{http::verb::get, "/v1/ws", 11};
    r.set(http::field::upgrade, "websocket");
    r.set(http::field::connection, "Upgrade");
    r.set(http::field::sec_websocket_version, "13");
    r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    for (auto const& e : extensions) r.insert(http::field::sec_websocket_extensions, e);
    return r;
}

constexpr char const* answer_text = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

}  // namespace

TEST_CASE("upgrade_answer: 101 with the accept key; 426 and 400 for a bad version or key", "[upgrade][deflate]") {
    auto const ok = upgrade_answer::to(upgrade(), true);
    CHECK(ok.accepted);
    CHECK_FALSE(ok.deflate);
    CHECK(ok.response.result() == http::status::switching_protocols);
    CHECK(ok.response[http::field::sec_websocket_accept] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(ok.response.find(http::field::sec_websocket_extensions) == ok.response.end());

    auto old = upgrade({"permessage-deflate"});
    old.set(http::field::sec_websocket_version, "8");
    auto const refused = upgrade_answer::to(old, true);
    CHECK_FALSE(refused.accepted);
    CHECK_FALSE(refused.deflate);
    CHECK(refused.response.result_int() == 426);
    CHECK(refused.response[http::field::sec_websocket_version] == "13");

    auto bad_key = upgrade();
    bad_key.set(http::field::sec_websocket_key, "short");
    CHECK(upgrade_answer::to(bad_key, true).response.result_int() == 400);
}

TEST_CASE("upgrade_answer: permessage-deflate when offered and on, across header lines", "[upgrade][deflate]") {
    auto const browser = upgrade_answer::to(upgrade({"permessage-deflate; client_max_window_bits"}), true);
    CHECK(browser.deflate);
    CHECK(browser.response[http::field::sec_websocket_extensions] == answer_text);

    // --compression off: never.
    auto const off = upgrade_answer::to(upgrade({"permessage-deflate; client_max_window_bits"}), false);
    CHECK(off.accepted);
    CHECK_FALSE(off.deflate);
    CHECK(off.response.find(http::field::sec_websocket_extensions) == off.response.end());

    // Two lines are one list: the first line's offer is declined, the second's accepted.
    auto const lines = upgrade_answer::to(upgrade({"permessage-deflate; server_max_window_bits=9", "permessage-deflate"}), true);
    CHECK(lines.deflate);
    CHECK(lines.response[http::field::sec_websocket_extensions] == answer_text);

    auto const declined = upgrade_answer::to(upgrade({"permessage-deflate; x=1", "x-webkit-deflate-frame"}), true);
    CHECK(declined.accepted);
    CHECK_FALSE(declined.deflate);
    CHECK(declined.response.find(http::field::sec_websocket_extensions) == declined.response.end());
}
