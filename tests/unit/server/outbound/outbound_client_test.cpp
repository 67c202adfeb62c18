#include "server/outbound/outbound_client.hpp"

#include "tests/unit/server/outbound/self_signed_certificate.hpp"
#include "tests/unit/server/outbound/test_http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <optional>

using kp::server::outbound_client;
using kp::server::outbound_options;
using kp::server::outbound_request;
using kp::server::outbound_result;
using kp::test::test_http_server;

namespace {

namespace asio = boost::asio;

// Deadlines short enough for tests, long enough for a loaded machine.
outbound_options short_options() {
    outbound_options options;
    options.connect_timeout = std::chrono::milliseconds{2000};
    options.response_timeout = std::chrono::milliseconds{2000};
    options.allow_private = true;  // the test servers are on 127.0.0.1
    return options;
}

// For the tests that wait for a deadline.
outbound_options quick_options() {
    auto options = short_options();
    options.connect_timeout = std::chrono::milliseconds{300};
    options.response_timeout = std::chrono::milliseconds{300};
    return options;
}

kp::webhooks::target_url url_of(std::string const& text) {
    auto parsed = kp::webhooks::target_url::parse(text);
    REQUIRE(std::holds_alternative<kp::webhooks::target_url>(parsed));
    return std::get<kp::webhooks::target_url>(parsed);
}

// Posts and runs the loop until the answer (at most 5 s: every deadline here is shorter).
outbound_result deliver(asio::io_context& io, outbound_client& client, std::string const& url,
                        std::string body = R"({"type":"kinto.event"})",
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::optional<outbound_result> result;
    int calls = 0;
    client.post(outbound_request{url_of(url), std::move(body), std::move(headers)}, [&](outbound_result r) {
        ++calls;
        result = std::move(r);
    });
    CHECK_FALSE(result.has_value());  // never from inside post()
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    while (!result && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds{20});
    REQUIRE(result.has_value());
    io.poll();
    CHECK(calls == 1);
    return *result;
}

std::shared_ptr<outbound_client> make_client(asio::io_context& io, outbound_options options = short_options(),
                                             std::shared_ptr<asio::ssl::context> tls = nullptr) {
    return std::make_shared<outbound_client>(io.get_executor(), options, std::move(tls));
}

}  // namespace

TEST_CASE("outbound: a 200 answer, with the request as specified", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const&) { return test_http_server::ok(200); }};
    auto client = make_client(io);
    auto const result = deliver(io, *client, server.url("/hook?x=1#frag"), R"({"a":1})", {{"webhook-id", "msg_1"}});
    CHECK(result.status == 200);
    CHECK(result.error.empty());
    CHECK(result.duration < std::chrono::seconds{2});
    REQUIRE(server.requests.size() == 1);
    auto const& request = server.requests.front();
    CHECK(request.method() == boost::beast::http::verb::post);
    CHECK(request.target() == "/hook?x=1");
    CHECK(request[boost::beast::http::field::host] == "127.0.0.1:" + std::to_string(server.port()));
    CHECK(request[boost::beast::http::field::user_agent] == "kinto-push/" KINTO_PUSH_VERSION);
    CHECK(request[boost::beast::http::field::content_type] == "application/json");
    CHECK(request["webhook-id"] == "msg_1");
    CHECK(request.keep_alive());
    CHECK(request.body() == R"({"a":1})");
}

TEST_CASE("outbound: 500 and 302 are returned as they are, the redirect not followed", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const& request) {
                                if (request.target() == "/fail") return test_http_server::ok(500, "Internal Server Error");
                                auto reply = test_http_server::ok(302, "Found", "");
                                reply.bytes.insert(reply.bytes.find("\r\n") + 2, "Location: /elsewhere\r\n");
                                return reply;
                            }};
    auto client = make_client(io);
    auto const failed = deliver(io, *client, server.url("/fail"));
    CHECK(failed.status == 500);
    CHECK(failed.error.empty());
    auto const redirected = deliver(io, *client, server.url("/moved"));
    CHECK(redirected.status == 302);
    CHECK(server.requests.size() == 2);
    CHECK(server.requests.back().target() == "/moved");
}

TEST_CASE("outbound: a response over the limit fails and closes the connection", "[outbound]") {
    asio::io_context io;
    std::string const huge(200 * 1024, 'x');
    test_http_server server{io, [&](auto const& request) {
                                if (request.target() == "/small") return test_http_server::ok(200);
                                return test_http_server::ok(200, "OK", huge);
                            }};
    auto options = short_options();
    options.max_response_bytes = 1024;
    auto client = make_client(io, options);
    auto const result = deliver(io, *client, server.url("/huge"));
    CHECK(result.status == 0);
    CHECK(result.error == "response larger than 1024 bytes");
    CHECK(client->idle_connections() == 0);

    // A header alone over the limit fails the same way.
    test_http_server headers{io, [](auto const&) {
                                 auto reply = test_http_server::ok(200);
                                 reply.bytes.insert(reply.bytes.find("\r\n") + 2, "X-Big: " + std::string(2000, 'h') + "\r\n");
                                 return reply;
                             }};
    CHECK(deliver(io, *client, headers.url()).error == "response larger than 1024 bytes");

    // Within the limit, header and body together.
    CHECK(deliver(io, *client, server.url("/small")).status == 200);
}

TEST_CASE("outbound: a receiver that never answers fails after the response timeout", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const&) { return test_http_server::reply{{}, false, true}; }};
    auto client = make_client(io, quick_options());
    auto const result = deliver(io, *client, server.url());
    CHECK(result.status == 0);
    CHECK(result.error == "no answer within 300 ms");
    CHECK(result.duration >= std::chrono::milliseconds{290});
    CHECK(result.duration < std::chrono::milliseconds{1500});
    CHECK(client->idle_connections() == 0);
}

TEST_CASE("outbound: a receiver that sends part of an answer and never ends it fails too", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const&) {
                                return test_http_server::reply{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", false, false};
                            }};
    auto client = make_client(io, quick_options());
    CHECK(deliver(io, *client, server.url()).error == "no answer within 300 ms");
}

TEST_CASE("outbound: keep-alive reuses one connection; Connection: close does not", "[outbound]") {
    asio::io_context io;
    bool close = false;
    test_http_server server{io, [&](auto const&) {
                                auto reply = test_http_server::ok(200);
                                if (close) reply.bytes.insert(reply.bytes.find("\r\n") + 2, "Connection: close\r\n");
                                return reply;
                            }};
    auto client = make_client(io);
    for (int i = 0; i < 3; ++i) CHECK(deliver(io, *client, server.url()).status == 200);
    CHECK(server.accepted == 1);
    CHECK(client->idle_connections() == 1);

    close = true;
    CHECK(deliver(io, *client, server.url()).status == 200);
    CHECK(client->idle_connections() == 0);
    CHECK(deliver(io, *client, server.url()).status == 200);
    CHECK(server.accepted == 2);
}

TEST_CASE("outbound: a kept connection the peer closed is retried once on a new one", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const&) {
                                auto reply = test_http_server::ok(200);
                                reply.close_after = true;  // says nothing of it: keep-alive by default
                                return reply;
                            }};
    auto client = make_client(io);
    CHECK(deliver(io, *client, server.url()).status == 200);
    io.run_for(std::chrono::milliseconds{50});  // the server's close arrives
    CHECK(client->idle_connections() == 1);
    auto const second = deliver(io, *client, server.url());
    CHECK(second.status == 200);
    CHECK(second.error.empty());
    CHECK(server.accepted == 2);
    CHECK(server.requests.size() == 2);
}

TEST_CASE("outbound: idle connections are bounded per host and expire", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const&) { return test_http_server::reply{{}, false, true}; }};
    test_http_server quick{io, [](auto const&) { return test_http_server::ok(204, "No Content", ""); }};
    auto options = short_options();
    options.max_idle_per_host = 1;
    options.idle_timeout = std::chrono::seconds{1};
    auto client = make_client(io, options);
    // Two at once: two connections, only one kept afterwards.
    int answered = 0;
    for (int i = 0; i < 2; ++i) {
        client->post(outbound_request{url_of(quick.url()), "{}", {}}, [&](outbound_result r) {
            CHECK(r.status == 204);
            ++answered;
        });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
    while (answered < 2 && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds{20});
    CHECK(answered == 2);
    CHECK(quick.accepted == 2);
    CHECK(client->idle_connections() == 1);
    io.run_for(std::chrono::milliseconds{1200});
    CHECK(client->idle_connections() == 0);
}

TEST_CASE("outbound: loopback and private addresses are refused unless allowed", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const&) { return test_http_server::ok(200); }};
    auto options = short_options();
    options.allow_private = false;
    auto client = make_client(io, options);
    auto const literal = deliver(io, *client, server.url());
    CHECK(literal.status == 0);
    CHECK(literal.error == "refused address 127.0.0.1 (loopback)");
    auto const named = deliver(io, *client, "http://localhost:" + std::to_string(server.port()) + "/hook");
    CHECK(named.status == 0);
    CHECK(named.error.find("refused address ") == 0);
    CHECK(named.error.find("(loopback)") != std::string::npos);
    CHECK(deliver(io, *client, "http://10.0.0.1/").error == "refused address 10.0.0.1 (private)");
    CHECK(deliver(io, *client, "http://[::ffff:169.254.169.254]/").error ==
          "refused address ::ffff:169.254.169.254 (link-local)");
    CHECK(server.accepted == 0);

    auto allowed = make_client(io);
    CHECK(deliver(io, *allowed, "http://localhost:" + std::to_string(server.port()) + "/hook").status == 200);
}

TEST_CASE("outbound: nothing listening is a connection failure", "[outbound]") {
    asio::io_context io;
    std::string url;
    {
        test_http_server gone{io, [](auto const&) { return test_http_server::ok(200); }};
        url = gone.url();
    }
    auto client = make_client(io);
    auto const result = deliver(io, *client, url);
    CHECK(result.status == 0);
    CHECK(result.error.find("could not connect") == 0);
}

TEST_CASE("outbound: TLS verified against the trusted certificates and the host name", "[outbound]") {
    asio::io_context io;
    auto const certificate = kp::test::self_signed_certificate::make("IP:127.0.0.1");
    auto server_tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    server_tls->use_certificate_chain(asio::buffer(certificate.certificate_pem));
    server_tls->use_private_key(asio::buffer(certificate.key_pem), asio::ssl::context::pem);
    test_http_server server{io, [](auto const&) { return test_http_server::ok(200); }, server_tls};

    // The system's store does not know the self-signed certificate.
    auto untrusting = make_client(io, short_options(), outbound_client::default_tls_context());
    auto const refused = deliver(io, *untrusting, server.url());
    CHECK(refused.status == 0);
    CHECK(refused.error.find("TLS certificate of 127.0.0.1 does not verify: ") == 0);
    CHECK(refused.error.find("self-signed") != std::string::npos);

    // Trusted, for this address.
    auto trusting_tls = outbound_client::default_tls_context();
    trusting_tls->add_certificate_authority(asio::buffer(certificate.certificate_pem));
    auto trusting = make_client(io, short_options(), trusting_tls);
    CHECK(deliver(io, *trusting, server.url()).status == 200);
    CHECK(deliver(io, *trusting, server.url()).status == 200);
    CHECK(server.accepted == 2);  // the second on the kept TLS connection

    // Trusted, but issued for another name.
    auto const other = kp::test::self_signed_certificate::make("DNS:other.example");
    auto other_tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    other_tls->use_certificate_chain(asio::buffer(other.certificate_pem));
    other_tls->use_private_key(asio::buffer(other.key_pem), asio::ssl::context::pem);
    test_http_server mismatched{io, [](auto const&) { return test_http_server::ok(200); }, other_tls};
    auto other_trusting_tls = outbound_client::default_tls_context();
    other_trusting_tls->add_certificate_authority(asio::buffer(other.certificate_pem));
    auto wrong_name = make_client(io, short_options(), other_trusting_tls);
    auto const mismatch = deliver(io, *wrong_name, mismatched.url());
    CHECK(mismatch.status == 0);
    CHECK(mismatch.error.find("TLS certificate of 127.0.0.1 does not verify") == 0);
}

TEST_CASE("outbound: a TLS handshake that never ends fails after the connect timeout", "[outbound]") {
    asio::io_context io;
    auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    test_http_server server{io, [](auto const&) { return test_http_server::ok(200); }, tls};
    server.silent = true;
    auto client = make_client(io, quick_options());
    auto const result = deliver(io, *client, server.url());
    CHECK(result.error == "no connection within 300 ms");
    CHECK(server.accepted == 1);
}

TEST_CASE("outbound: shutdown ends what is in flight and refuses what comes after", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const& request) {
                                if (request.target() == "/keep") return test_http_server::ok(200);
                                return test_http_server::reply{{}, false, true};
                            }};
    auto client = make_client(io);
    CHECK(deliver(io, *client, server.url("/keep")).status == 200);
    CHECK(client->idle_connections() == 1);
    std::vector<outbound_result> results;
    client->post(outbound_request{url_of(server.url("/never")), "{}", {}}, [&](outbound_result r) { results.push_back(r); });
    io.run_for(std::chrono::milliseconds{50});
    CHECK(results.empty());
    client->shutdown();
    CHECK(client->idle_connections() == 0);
    client->post(outbound_request{url_of(server.url("/keep")), "{}", {}}, [&](outbound_result r) { results.push_back(r); });
    io.run_for(std::chrono::milliseconds{50});
    REQUIRE(results.size() == 2);
    CHECK(results[0].error == "shutdown");
    CHECK(results[1].error == "shutdown");
    io.run_for(std::chrono::milliseconds{400});  // nothing more
    CHECK(results.size() == 2);
}

TEST_CASE("outbound: headers with line breaks are refused", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const&) { return test_http_server::ok(200); }};
    auto client = make_client(io);
    CHECK(deliver(io, *client, server.url(), "{}", {{"x-a", "b\r\nInjected: 1"}}).error == "invalid request header x-a");
    CHECK(deliver(io, *client, server.url(), "{}", {{"x a", "b"}}).error == "invalid request header x a");
    CHECK(deliver(io, *client, server.url(), "{}", {{"", "b"}}).error == "invalid request header ");
    CHECK(server.accepted == 0);
    CHECK(deliver(io, *client, server.url(), "{}", {{"webhook-signature", "v1,abc="}}).status == 200);
}

TEST_CASE("outbound: interim 1xx answers are skipped for the final one", "[outbound]") {
    asio::io_context io;
    test_http_server server{io, [](auto const&) {
                                auto reply = test_http_server::ok(201, "Created");
                                reply.bytes = "HTTP/1.1 100 Continue\r\n\r\n" + reply.bytes;
                                return reply;
                            }};
    auto client = make_client(io);
    CHECK(deliver(io, *client, server.url()).status == 201);
}
