// The replay race on real threads, with the real session code: a subscription resumes from
// offset 0 on its shard thread while another thread publishes; pages the memory does not hold
// are read on a "blocking pool" thread and handed back to the shard, as the server does. The
// client must read every offset once, in order. Under ThreadSanitizer (label `concurrency`)
// this also checks for data races.

#include "channels/channel_hub.hpp"
#include "channels/subscriber_table.hpp"
#include "metrics/registry.hpp"
#include "session/send_queue.hpp"
#include "session/session_core.hpp"
#include "session/session_port.hpp"
#include "tests/unit/support/concurrency_support.hpp"

#include <catch2/catch.hpp>

using namespace kp::testing;
using namespace kp::session;
using json = nlohmann::ordered_json;

namespace {

// The port of a session on `shard`: authorization granted at once, store reads on `pool`,
// and every queued frame "written" by a task on the shard, as a socket's completion would.
class threaded_port final : public session_port {
public:
    threaded_port(fake_shard& shard, fake_shard& pool, kp::channels::channel_hub& hub, send_queue& queue)
        : shard_(shard), pool_(pool), hub_(hub), queue_(queue) {}

    session_core* core = nullptr;
    std::vector<std::uint64_t> offsets;   // the events the client read (shard thread)
    std::optional<std::uint16_t> closed_with;

    void authorize(subscriber_identity const&, std::string const&, decided done) override {
        done(access_decision::allowed);
    }
    void recheck(subscriber_identity const&, std::string const&, decided done) override {
        done(access_decision::allowed);
    }
    std::int64_t steady_ms() const override { return 0; }
    void identify(std::string const&, identified done) override { done(access_decision::unauthorized); }
    void locate(std::string const& channel, std::int64_t timestamp, located done) override {
        pool_.post([this, channel, timestamp, done = std::move(done)] {
            auto position = hub_.history().position_after(channel, timestamp);
            shard_.post([done, position] { done(position); });
        });
    }
    void read_page(std::string const& channel, std::uint64_t after, std::size_t limit, paged done) override {
        pool_.post([this, channel, after, limit, done = std::move(done)] {
            auto page = hub_.read(channel, after, limit);
            shard_.post([done, page = std::move(page)]() mutable { done(std::move(page), false); });
        });
    }
    void watch_expiry(std::optional<std::int64_t>) override {}
    frame_ptr reply_frame(nlohmann::ordered_json const& frame) override {
        return std::make_shared<std::string const>(frame.dump());
    }
    void push_event(kp::session::send_queue& queue, kp::channels::message_ptr const& m) override {
        queue.push(std::make_shared<std::string const>(m->frame()));
    }
    void queued() override {
        if (writing_ || queue_.empty()) return;
        writing_ = true;
        shard_.post([this] { write(); });
    }
    void close(std::uint16_t code, std::string const&) override {
        closed_with = code;
        queue_.seal(nullptr);
    }
    void accepting_again() override {}

private:
    void write() {
        queue_.start_write(4, [&](std::string const& frame) {
            auto f = json::parse(frame);
            if (f["type"] == "event") offsets.push_back(f["offset"].get<std::uint64_t>());
        });
        queue_.written();
        writing_ = false;
        core->written();
        queued();
    }

    fake_shard& shard_;
    fake_shard& pool_;
    kp::channels::channel_hub& hub_;
    send_queue& queue_;
    bool writing_ = false;
};

}  // namespace

TEST_CASE("replay race: a resume that reads the history while publishing goes on gets each offset once, in order",
          "[concurrency][session][replay]") {
    bool const sqlite = GENERATE(false, true);
    CAPTURE(sqlite);
    store_under_test under(sqlite);
    kp::channels::channel_hub hub(*under.store, 100000);
    kp::metrics::registry registry;
    session_metrics metrics{registry.add_counter("d", "d"), registry.add_counter("r", "r"),
                            registry.add_counter("rr", "r"), registry.add_counter("nr", "n"),
                            registry.add_gauge("q", "q"),   registry.add_gauge("ra", "r"),
                            registry.counter_family("af", "a", {"kind"})};
    fake_shard pool;
    std::optional<fake_shard> shard(std::in_place);
    kp::channels::subscriber_table table;
    // A queue larger than everything published: the client here reads a few frames per shard
    // turn while the publisher may post hundreds of batches meanwhile, which with a small
    // queue is a client too slow for its traffic (4008, correctly). The pace of a replay under
    // a small queue is subscription_set_test.cpp's subject.
    send_queue queue(4 << 20, nullptr);
    threaded_port port(*shard, pool, hub, queue);
    session_core core(session_settings{}, hub, table, queue, port, metrics);
    port.core = &core;
    hub.add_shard([&](kp::channels::message_batch batch) {
        shard->post([&, batch] {
            table.deliver(*batch);
            hub.delivered(0);
        });
    });

    constexpr int total = 1200;
    std::promise<void> quarter;   // set once a quarter of the events are published
    auto quarter_published = quarter.get_future();
    std::thread publisher([&] {
        for (int n = 0; n < total; ++n) {
            hub.publish(record_event(0, n));
            if (n + 1 == total / 4) quarter.set_value();
        }
    });
    quarter_published.wait();
    shard->post([&] {
        core.receive(json{{"type", "subscribe"}, {"id", "1"}, {"channel", collection(0)},
                          {"since", {{"epoch", hub.history().epoch()}, {"offset", 0}}}}
                         .dump());
    });
    publisher.join();
    // Until the client has read everything: each shard turn may hand a page to the pool and
    // back, so wait on the shard for what the client read (bounded).
    for (int turn = 0; turn < 10000; ++turn) {
        std::size_t read = 0;
        shard->run_and_wait([&] { read = port.offsets.size(); });
        if (read >= static_cast<std::size_t>(total) || port.closed_with) break;
        pool.run_and_wait([] {});
    }
    shard->run_and_wait([&] { core.end(); });
    // Nothing may post to the shard once it is gone: the pool finishes what the shard asked
    // of it, then the shard what the pool handed back.
    pool.run_and_wait([] {});
    shard->run_and_wait([] {});
    shard.reset();   // joins the shard thread: its results are ours to read

    CHECK_FALSE(port.closed_with);
    REQUIRE(port.offsets.size() == static_cast<std::size_t>(total));
    for (std::size_t i = 0; i < port.offsets.size(); ++i) REQUIRE(port.offsets[i] == i + 1);
}
