#pragma once
// A session_core without a socket: a memory store behind a hub whose one shard delivers at
// once into a subscriber table, and a scripted session_port that records what the core asks
// and lets the test answer when it chooses. Frames are the JSON texts themselves.

#include "channels/channel_hub.hpp"
#include "channels/subscriber_table.hpp"
#include "metrics/registry.hpp"
#include "session/send_queue.hpp"
#include "session/session_core.hpp"
#include "session/session_metrics.hpp"
#include "session/session_port.hpp"
#include "store/memory_store.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace kp::session::testing {

using json = nlohmann::ordered_json;

// The memory store, whose pages and timestamp positions can be made to look "on disk": the
// session must then ask its port for them instead of reading on its thread.
class disk_like_store final : public store::history_store {
public:
    store::memory_store memory{store::retention{}};
    bool pages_in_memory = true;
    bool positions_in_memory = true;

    std::string kind() const override { return memory.kind(); }
    std::string epoch() const override { return memory.epoch(); }
    std::vector<std::vector<store::appended_event>> append_group(
        std::span<std::vector<store::append_event> const> transactions) override {
        return memory.append_group(transactions);
    }
    bool read_in_memory(std::string const& channel, std::uint64_t after) override {
        return pages_in_memory && memory.read_in_memory(channel, after);
    }
    std::vector<store::event_record> read(std::string const& channel, std::uint64_t after, std::size_t limit) override {
        return memory.read(channel, after, limit);
    }
    store::channel_span span(std::string const& channel) override { return memory.span(channel); }
    store::timestamp_position position_after(std::string const& channel, std::int64_t timestamp) override {
        return memory.position_after(channel, timestamp);
    }
    std::optional<store::timestamp_position> position_in_memory(std::string const& channel,
                                                                std::int64_t timestamp) override {
        if (!positions_in_memory) return std::nullopt;
        return memory.position_in_memory(channel, timestamp);
    }
    std::vector<std::string> channels_with_prefix(std::string const& prefix) override {
        return memory.channels_with_prefix(prefix);
    }
    void trim(std::int64_t now_ms) override { memory.trim(now_ms); }
    bool healthy() override { return true; }
};

// Records every question; answers come from the test (answer_*), or at once when set so.
class scripted_port final : public session_port {
public:
    explicit scripted_port(send_queue& queue) : queue_(queue) {}

    struct authorization {
        subscriber_identity identity;
        std::string channel;
        decided done;
    };
    struct identification {
        std::string token;
        identified done;
    };
    struct location {
        std::string channel;
        std::int64_t timestamp;
        located done;
    };
    struct page_request {
        std::string channel;
        std::uint64_t after;
        paged done;
    };

    std::deque<authorization> authorizations;
    std::deque<authorization> rechecks;
    std::int64_t clock_ms = 0;   // steady_ms()
    std::deque<identification> identifications;
    std::deque<location> locations;
    std::deque<page_request> pages;
    std::optional<access_decision> answer_at_once;   // authorize() answers before returning
    std::vector<std::optional<std::int64_t>> expiries;
    std::optional<std::uint16_t> closed_with;
    std::string close_reason;
    int resumed = 0;
    std::int64_t now = 1'700'000'000;   // the unix time the tests' tokens are made against

    void authorize(subscriber_identity const& identity, std::string const& channel, decided done) override {
        if (answer_at_once) return done(*answer_at_once);
        authorizations.push_back({identity, channel, std::move(done)});
    }
    void recheck(subscriber_identity const& identity, std::string const& channel, decided done) override {
        rechecks.push_back({identity, channel, std::move(done)});
    }
    std::int64_t steady_ms() const override { return clock_ms; }
    void identify(std::string const& token, identified done) override {
        identifications.push_back({token, std::move(done)});
    }
    void locate(std::string const& channel, std::int64_t timestamp, located done) override {
        locations.push_back({channel, timestamp, std::move(done)});
    }
    void read_page(std::string const& channel, std::uint64_t after, std::size_t, paged done) override {
        pages.push_back({channel, after, std::move(done)});
    }
    void watch_expiry(std::optional<std::int64_t> ends_s) override { expiries.push_back(ends_s); }
    frame_ptr reply_frame(nlohmann::ordered_json const& frame) override {
        return std::make_shared<std::string const>(frame.dump());
    }
    void push_event(send_queue& queue, channels::message_ptr const& m) override {
        queue.push(std::make_shared<std::string const>(m->frame()));
    }
    void queued() override {}
    void close(std::uint16_t code, std::string const& reason) override {
        if (closed_with) return;
        closed_with = code;
        close_reason = reason;
        queue_.seal(nullptr);   // as a transport does
    }
    void accepting_again() override { ++resumed; }

    // The oldest question of each kind, answered now.
    void answer_authorization(access_decision d) {
        REQUIRE_FALSE(authorizations.empty());
        auto a = std::move(authorizations.front());
        authorizations.pop_front();
        a.done(d);
    }
    void answer_recheck(access_decision d) {
        REQUIRE_FALSE(rechecks.empty());
        auto a = std::move(rechecks.front());
        rechecks.pop_front();
        a.done(d);
    }
    void answer_identification(std::variant<subscriber_identity, credential_refusal> r) {
        REQUIRE_FALSE(identifications.empty());
        auto a = std::move(identifications.front());
        identifications.pop_front();
        a.done(std::move(r));
    }

private:
    send_queue& queue_;
};

// The hub, the table, the queue, the port and the core, wired as a shard wires them.
struct session_rig {
    disk_like_store store;
    channels::channel_hub hub{store, 1000};
    channels::subscriber_table table;
    metrics::registry registry;
    session_metrics metrics{registry.add_counter("delivered", "d"),
                            registry.add_counter("replayed", "r"),
                            registry.add_counter("recovered", "r"),
                            registry.add_counter("not_recovered", "n"),
                            registry.add_gauge("bytes_queued", "b"),
                            registry.add_gauge("read_ahead", "r"),
                            registry.counter_family("auth_failures", "a", {"kind"})};
    send_queue queue;
    scripted_port port{queue};
    session_core core;

    explicit session_rig(std::size_t queue_limit = 1 << 20, session_settings settings = {})
        : queue(queue_limit, &metrics.bytes_queued), core(settings, hub, table, queue, port, metrics) {
        hub.add_shard([this](channels::message_batch batch) {
            table.deliver(*batch);
            hub.delivered(0);
        });
    }

    // Everything queued so far, as the client reads it (the queue is written and emptied);
    // then the core hears of the write, as after a socket's write.
    std::vector<json> read() {
        std::vector<json> frames;
        while (!queue.empty()) {
            queue.start_write(1 << 30, [&](std::string const& f) { frames.push_back(json::parse(f)); });
            queue.written();
            core.written();
        }
        return frames;
    }

    // Publishes one record event of `channel` (a collection of bucket b).
    void publish(std::string const& cid, std::string const& rid, std::int64_t last_modified) {
        json event;
        event["payload"] = {{"timestamp", last_modified}, {"action", "update"},
                            {"uri", "/buckets/b/collections/" + cid + "/records/" + rid},
                            {"resource_name", "record"}, {"bucket_id", "b"}, {"collection_id", cid},
                            {"record_id", rid}};
        event["impacted_objects"] = json::array({{{"new", {{"id", rid}, {"last_modified", last_modified}}}}});
        auto result = hub.publish(event);
        REQUIRE(result.outcome == channels::publish_result::status::ok);
    }
};

inline std::string subscribe(std::string const& id, std::string const& channel, json since = nullptr) {
    json f{{"type", "subscribe"}, {"id", id}, {"channel", channel}};
    if (!since.is_null()) f["since"] = since;
    return f.dump();
}

}  // namespace kp::session::testing
