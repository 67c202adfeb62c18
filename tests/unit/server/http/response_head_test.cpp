#include "server/http/http_responses.hpp"
#include "server/http/response_head.hpp"

#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>

#include <sstream>

using kp::server::append_response_head;
using kp::server::http_response;
namespace http = boost::beast::http;

namespace {

// What Beast's serializer writes for the whole response.
std::string beast_wire(http_response const& response) {
    std::ostringstream out;
    out << response;
    return out.str();
}

std::string our_wire(http_response const& response) {
    std::string wire = "left as it was|";
    append_response_head(wire, response);
    return wire + response.body();
}

}  // namespace

TEST_CASE("response_head writes the head Beast's serializer writes, byte for byte") {
    SECTION("a 202 to a publish (HTTP/1.1, keep-alive)") {
        auto response = kp::server::text_response(202, "application/json", R"({"published":[]})", 11, true);
        REQUIRE(our_wire(response) == "left as it was|" + beast_wire(response));
        REQUIRE(beast_wire(response).starts_with("HTTP/1.1 202 Accepted\r\nServer: kinto-push/"));
    }
    SECTION("an error closing an HTTP/1.0 connection") {
        auto response = kp::server::error_response(413, kp::server::kinto_errno::request_too_large, "too large", 10,
                                                   false);
        REQUIRE(our_wire(response) == "left as it was|" + beast_wire(response));
        REQUIRE(beast_wire(response).starts_with("HTTP/1.0 413 Payload Too Large\r\n"));
    }
    SECTION("a reason set by hand, repeated and unknown fields, an empty body") {
        http_response response{http::status::no_content, 11};
        response.reason("Nothing Here");
        response.set("X-Custom", "a");
        response.insert("Set-Cookie", "one=1");
        response.insert("Set-Cookie", "two=2");
        response.set(http::field::retry_after, "5");
        REQUIRE(our_wire(response) == "left as it was|" + beast_wire(response));
        REQUIRE(beast_wire(response) ==
                "HTTP/1.1 204 Nothing Here\r\nX-Custom: a\r\nSet-Cookie: one=1\r\nSet-Cookie: two=2\r\n"
                "Retry-After: 5\r\n\r\n");
    }
    SECTION("a status Beast has no name for") {
        http_response response{static_cast<http::status>(599), 11};
        response.prepare_payload();
        REQUIRE(our_wire(response) == "left as it was|" + beast_wire(response));
    }
}
