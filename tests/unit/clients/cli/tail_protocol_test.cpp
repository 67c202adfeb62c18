// cli::tail_protocol with a recording port, no socket: the subscribe frames (live or from a
// saved position), the subscribed answers (recovered or not: RESYNC NEEDED), events taken
// once and in order, the server's refusals turned into retries or exit codes, and the
// positions of handled events (docs/cli.md).

#include "clients/cli/exit_codes.hpp"
#include "clients/cli/tail_protocol.hpp"
#include "clients/cli/ws_url.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

using Catch::Matchers::Contains;
using kp::cli::event_runner;
using kp::cli::exit_codes;
using kp::cli::position;
using kp::cli::position_store;
using kp::cli::tail_options;
using kp::cli::tail_protocol;
using kp::cli::ws_url;
using json = nlohmann::json;

namespace {

constexpr char const* articles = "/buckets/blog/collections/articles";
constexpr char const* blog = "/buckets/blog";

struct recording_port final : kp::cli::tail_protocol_port {
    struct verdict {
        int code;
        std::string message;
        std::uint16_t close_code;
    };
    std::vector<json> sent;
    std::vector<std::string> notes;
    std::optional<std::chrono::seconds> idle_timeout;
    int subscribed_count = 0;
    int saves = 0;
    std::vector<event_runner::event> taken;
    std::vector<std::string> retried;
    std::optional<verdict> fatal_verdict;

    void send(std::string frame) override { sent.push_back(json::parse(frame)); }
    void note(std::string const& message) override { notes.push_back(message); }
    void welcomed(std::chrono::seconds timeout) override { idle_timeout = timeout; }
    void subscribed() override { ++subscribed_count; }
    void save() override { ++saves; }
    void take(event_runner::event e) override { taken.push_back(std::move(e)); }
    void retry_subscribe(std::string const& channel, std::string const&) override { retried.push_back(channel); }
    void fatal(int code, std::string const& message, std::uint16_t close_code) override {
        fatal_verdict = verdict{code, message, close_code};
    }
};

tail_options options(std::vector<std::string> channels, bool token = false) {
    tail_options o;
    o.url = std::get<ws_url>(ws_url::parse("ws://127.0.0.1:8080/v1/ws"));
    o.channels = std::move(channels);
    if (token) o.token = "t";
    return o;
}

std::string welcome(json extra = json::object()) {
    json frame = {{"type", "welcome"}, {"session", "s1"}, {"server", "kinto-push/test"}};
    frame.update(extra);
    return frame.dump();
}

std::string subscribed(json const& request, std::uint64_t head, bool recovered, std::string epoch = "e1") {
    return json{{"type", "subscribed"}, {"id", request["id"]}, {"channel", request["channel"]},
                {"epoch", epoch},       {"offset", head},      {"recovered", recovered}}
        .dump();
}

std::string event(std::string const& channel, std::uint64_t offset, std::int64_t timestamp = 1000) {
    return json{{"type", "event"},
                {"channel", channel},
                {"offset", offset},
                {"timestamp", timestamp},
                {"payload", {{"action", "update"}, {"uri", "/buckets/blog"}}}}
        .dump();
}

}  // namespace

TEST_CASE("tail protocol: welcome subscribes to every channel, live or from its saved position", "[cli]") {
    recording_port port;
    position_store::positions saved{{blog, position{"e0", 7, 123}}};
    tail_protocol protocol(options({articles, blog}), saved, port);
    protocol.connected();
    CHECK_FALSE(protocol.welcomed());

    protocol.receive(welcome({{"heartbeat", 10}}));
    CHECK(protocol.welcomed());
    CHECK(port.idle_timeout == std::chrono::seconds(25));
    REQUIRE(port.notes.size() == 1);
    CHECK_THAT(port.notes[0], Contains("connected to ws://127.0.0.1:8080/v1/ws (session s1, kinto-push/test)"));
    REQUIRE(port.sent.size() == 2);
    CHECK(port.sent[0] == json{{"type", "subscribe"}, {"id", "1"}, {"channel", articles}});
    CHECK(port.sent[1] ==
          json{{"type", "subscribe"}, {"id", "2"}, {"channel", blog}, {"since", {{"epoch", "e0"}, {"offset", 7}}}});
}

TEST_CASE("tail protocol: a heartbeat out of range means the default", "[cli]") {
    for (json heartbeat : {json(0), json(3601), json("25"), json(-1)}) {
        recording_port port;
        tail_protocol protocol(options({articles}), {}, port);
        protocol.connected();
        protocol.receive(welcome({{"heartbeat", heartbeat}}));
        CHECK(port.idle_timeout == std::chrono::seconds(55));
    }
}

TEST_CASE("tail protocol: without a saved position the head becomes the position", "[cli]") {
    recording_port port;
    tail_protocol protocol(options({articles}), {}, port);
    protocol.connected();
    protocol.receive(welcome());
    protocol.receive(subscribed(port.sent.at(0), 41, false));
    CHECK(port.subscribed_count == 1);
    CHECK(port.saves == 1);
    CHECK(protocol.positions().at(articles) == position{"e1", 41, std::nullopt});
    CHECK_THAT(port.notes.back(), Contains("no saved position: live events only"));

    // Events up to the head are not ours; the next one is taken.
    protocol.receive(event(articles, 41));
    CHECK(port.taken.empty());
    protocol.receive(event(articles, 42, 4242));
    REQUIRE(port.taken.size() == 1);
    auto const& e = port.taken[0];
    CHECK(e.channel == articles);
    CHECK(e.epoch == "e1");
    CHECK(e.offset == 42);
    CHECK(e.timestamp == 4242);
    CHECK(e.action == "update");
    CHECK(e.uri == "/buckets/blog");
    CHECK(e.frame == event(articles, 42, 4242));
    // Taken is not handled: the position moves only with handled().
    CHECK(protocol.positions().at(articles).offset == 41);
    protocol.handled(e);
    CHECK(protocol.positions().at(articles) == position{"e1", 42, 4242});
}

TEST_CASE("tail protocol: a recovered position replays from it, once and in order", "[cli]") {
    recording_port port;
    tail_protocol protocol(options({articles}), {{articles, position{"e1", 5, 500}}}, port);
    protocol.connected();
    protocol.receive(welcome());
    protocol.receive(subscribed(port.sent.at(0), 8, true));
    CHECK(port.saves == 0);
    CHECK_THAT(port.notes.back(), Contains("recovered: true (resuming after offset 5, 3 events to replay)"));

    for (std::uint64_t offset : {5, 6, 6, 7, 9}) protocol.receive(event(articles, offset));
    REQUIRE(port.taken.size() == 3);
    CHECK(port.taken[0].offset == 6);
    CHECK(port.taken[1].offset == 7);
    CHECK(port.taken[2].offset == 9);
    CHECK_THAT(port.notes.back(), Contains("jumped from offset 7 to 9"));
}

TEST_CASE("tail protocol: a position the history no longer covers needs a resync", "[cli]") {
    recording_port port;
    tail_protocol protocol(options({articles}), {{articles, position{"old", 5, 500}}}, port);
    protocol.connected();
    protocol.receive(welcome());
    protocol.receive(subscribed(port.sent.at(0), 20, false, "new"));
    CHECK(port.saves == 1);
    CHECK(protocol.positions().at(articles) == position{"new", 20, 500});
    CHECK_THAT(port.notes.back(), Contains("RESYNC NEEDED on /buckets/blog/collections/articles"));
    CHECK_THAT(port.notes.back(), Contains("after offset 5 (epoch old)"));
    CHECK_THAT(port.notes.back(), Contains("GET /v1/buckets/blog/collections/articles/records?_since=500"));
    CHECK_THAT(port.notes.back(), Contains("carries on from offset 20"));
}

TEST_CASE("tail protocol: answers that are not ours are ignored", "[cli]") {
    recording_port port;
    tail_protocol protocol(options({articles}), {}, port);
    protocol.connected();
    protocol.receive(welcome());
    auto request = port.sent.at(0);
    // An event before the subscription is answered, a subscribed with another id.
    protocol.receive(event(articles, 1));
    auto other = request;
    other["id"] = "99";
    protocol.receive(subscribed(other, 3, false));
    protocol.receive(json{{"type", "pong"}}.dump());
    CHECK(port.taken.empty());
    CHECK(port.subscribed_count == 0);
    CHECK_FALSE(port.fatal_verdict);

    // After the connection is gone, the old subscription's answer means nothing.
    protocol.disconnected();
    protocol.receive(subscribed(request, 3, false));
    CHECK(port.subscribed_count == 0);
}

TEST_CASE("tail protocol: frames that break the protocol end the command", "[cli]") {
    recording_port port;
    tail_protocol protocol(options({articles}), {}, port);
    protocol.connected();

    SECTION("not a JSON object with a type") {
        protocol.receive("[1,2]");
    }
    SECTION("a malformed subscribed") {
        protocol.receive(welcome());
        auto frame = json::parse(subscribed(port.sent.at(0), 3, false));
        frame.erase("recovered");
        protocol.receive(frame.dump());
    }
    SECTION("an event without an offset") {
        protocol.receive(welcome());
        protocol.receive(subscribed(port.sent.at(0), 3, false));
        protocol.receive(json{{"type", "event"}, {"channel", articles}}.dump());
    }
    REQUIRE(port.fatal_verdict);
    CHECK(port.fatal_verdict->code == exit_codes::protocol);
    CHECK(port.fatal_verdict->close_code == 1002);
}

TEST_CASE("tail protocol: a refused subscribe is retried or ends the command", "[cli]") {
    struct refusal {
        std::string code;
        bool token;
        std::optional<int> exit_code;   // none: retried
    };
    for (auto const& r : {refusal{"unavailable", false, std::nullopt}, refusal{"internal", false, std::nullopt},
                          refusal{"unauthorized", false, exit_codes::auth}, refusal{"forbidden", true, exit_codes::auth},
                          refusal{"too_many_subscriptions", false, exit_codes::failure},
                          refusal{"invalid_channel", false, exit_codes::protocol}}) {
        INFO(r.code);
        recording_port port;
        tail_protocol protocol(options({articles}, r.token), {}, port);
        protocol.connected();
        protocol.receive(welcome());
        protocol.receive(
            json{{"type", "error"}, {"id", port.sent.at(0)["id"]}, {"code", r.code}, {"message", "no"}}.dump());
        if (!r.exit_code) {
            CHECK(port.retried == std::vector<std::string>{articles});
            CHECK_FALSE(port.fatal_verdict);
            // The retry sends a new subscribe, with a new id.
            protocol.subscribe(articles);
            CHECK(port.sent.back()["id"] == "2");
            continue;
        }
        REQUIRE(port.fatal_verdict);
        CHECK(port.fatal_verdict->code == *r.exit_code);
        CHECK(port.fatal_verdict->close_code == 1000);
        CHECK_THAT(port.fatal_verdict->message, Contains("subscribe to " + std::string(articles) + " refused: " + r.code));
        if (r.code == "unauthorized") CHECK_THAT(port.fatal_verdict->message, Contains("(no --token given)"));
        if (r.code == "forbidden") CHECK_THAT(port.fatal_verdict->message, !Contains("--token"));
    }

    // An error that answers no subscribe is only noted.
    recording_port port;
    tail_protocol protocol(options({articles}), {}, port);
    protocol.connected();
    protocol.receive(json{{"type", "error"}, {"code", "bad_frame"}, {"message", "what?"}}.dump());
    CHECK_FALSE(port.fatal_verdict);
    CHECK_THAT(port.notes.back(), Contains("the server reported an error: bad_frame: what?"));
}
