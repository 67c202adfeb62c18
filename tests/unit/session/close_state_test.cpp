// session::close_state: every way a connection ends, as sequences of what happened.

#include "session/close_state.hpp"

#include <catch2/catch.hpp>

using kp::session::close_state;
using phase = close_state::phase;
using action = close_state::action;
using namespace std::chrono_literals;

namespace {

close_state::clock::time_point const t0{};

close_state make(bool wait_for_peer = true) {
    return close_state(5s, 3000ms, wait_for_peer);
}

}  // namespace

TEST_CASE("we close: our frame, the peer's answer, then a drain", "[session]") {
    auto s = make();
    CHECK(s.close(4008, t0));
    CHECK_FALSE(s.close(1000, t0));   // once
    CHECK(s.current() == phase::closing);
    CHECK(s.final_written(t0 + 1s) == action::none);   // now wait for the peer
    CHECK(s.current() == phase::final_written);
    CHECK(s.peer_close(4008) == action::start_draining);
    CHECK(s.current() == phase::draining);
    CHECK(s.code() == 4008);
    CHECK(std::string(s.initiator()) == "server");
}

TEST_CASE("the peer closes first: we answer, then drain once our frame is written", "[session]") {
    auto s = make();
    CHECK(s.peer_close(1000) == action::none);
    CHECK(s.is_open());   // the caller answers with close()
    CHECK(s.close(1000, t0));
    CHECK(s.final_written(t0) == action::start_draining);
    CHECK(s.code() == 1000);
    CHECK(std::string(s.initiator()) == "client");
}

TEST_CASE("a peer that broke the protocol is not waited for", "[session]") {
    auto s = make();
    CHECK(s.close(1002, t0));
    CHECK(s.protocol_error() == action::none);   // our frame is not written yet
    CHECK(s.final_written(t0) == action::start_draining);
}

TEST_CASE("a peer that never answers is dropped after the grace period; a drain after the linger time",
          "[session]") {
    auto s = make();
    s.close(1001, t0);
    CHECK(s.tick(t0 + 4s) == action::none);
    CHECK(s.tick(t0 + 5s) == action::drop);
    CHECK(s.dropped());

    auto d = make();
    d.close(1001, t0);
    d.final_written(t0);
    d.peer_close(1001);   // draining from now (the wall clock)
    CHECK(d.tick(close_state::clock::now() + 2s) == action::none);
    CHECK(d.tick(close_state::clock::now() + 4s) == action::drop);
}

TEST_CASE("a connection that ends without a close handshake is 1006 from the client", "[session]") {
    auto s = make();
    s.io_failed();
    CHECK(s.dropped());
    CHECK(s.code() == 1006);
    CHECK(std::string(s.initiator()) == "client");
    CHECK(s.tick(t0 + 1h) == action::none);

    auto silent = make();   // dropped by the server for silence: nothing was said
    silent.drop();
    CHECK(silent.code() == 1006);
    CHECK(std::string(silent.initiator()) == "server");
}

TEST_CASE("without a closing handshake (SSE) the drain starts once the final frame is written", "[session]") {
    auto s = make(false);
    s.close(4008, t0);
    CHECK(s.final_written(t0) == action::start_draining);
}

TEST_CASE("a close is counted once", "[session]") {
    auto s = make();
    CHECK_FALSE(s.counted());
    s.mark_counted();
    CHECK(s.counted());
}
