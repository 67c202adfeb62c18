// session::send_queue: bytes counted (and mirrored in a gauge), the write in flight, the 4008
// rule per transaction, sealing on close.

#include "session/send_queue.hpp"

#include "metrics/registry.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using kp::session::send_queue;

namespace {

kp::session::frame_ptr frame(std::size_t bytes, char fill = 'x') {
    return std::make_shared<std::string const>(bytes, fill);
}

std::vector<std::string> take(send_queue& q, std::size_t max) {
    std::vector<std::string> out;
    q.start_write(max, [&](std::string const& f) { out.push_back(f); });
    return out;
}

}  // namespace

TEST_CASE("bytes are counted while queued and in flight, and leave when written", "[session]") {
    kp::metrics::registry registry;
    auto& gauge = registry.add_gauge("queued", "q");
    {
        send_queue q(100, &gauge);
        CHECK_FALSE(q.push(frame(40, 'a')));
        CHECK_FALSE(q.push(frame(40, 'b')));
        CHECK(q.push(frame(40, 'c')));   // 120 > 100
        CHECK(q.bytes() == 120);
        CHECK(gauge.value() == 120);
        auto written = take(q, 2);
        REQUIRE(written.size() == 2);
        CHECK(written[0][0] == 'a');
        CHECK(q.writing());
        CHECK(q.has_unsent());
        q.written();
        CHECK(q.bytes() == 40);
        CHECK_FALSE(q.writing());
        q.push(frame(10));
    }
    CHECK(gauge.value() == 0);   // a queue destroyed with frames gives its bytes back
}

TEST_CASE("a transaction is judged once: only a new one that finds the queue over its limit is too slow",
          "[session]") {
    send_queue q(100, nullptr);
    q.push(frame(150));
    CHECK(q.too_slow_for_batch(1));
    CHECK_FALSE(q.too_slow_for_batch(1));   // the rest of the same transaction
    take(q, 1);
    q.written();
    CHECK_FALSE(q.too_slow_for_batch(2));
}

TEST_CASE("sealing drops what is not in flight, queues the last frame, and takes nothing more", "[session]") {
    send_queue q(1000, nullptr);
    q.push(frame(10, 'a'));
    q.push(frame(10, 'b'));
    take(q, 1);   // 'a' is being written
    q.seal(frame(3, 'z'));
    CHECK_FALSE(q.open());
    q.push(frame(10, 'c'));
    q.seal(frame(3, 'y'));   // once only
    q.written();
    auto rest = take(q, 10);
    REQUIRE(rest.size() == 1);
    CHECK(rest[0] == "zzz");
    q.written();
    CHECK(q.empty());
    CHECK(q.bytes() == 0);
}
