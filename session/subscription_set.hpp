#pragma once
// One connection's subscriptions: per channel, the last offset sent and the replay still
// owed, the live offset check ("no hole, no duplicate"), and the replay pump, which queues
// history at the pace the client reads. Socket-free: it queues frames on the connection's
// send_queue and asks its session_port for what takes time (pages from disk).
//
// Why there is no hole and no duplicate: a channel is registered in the shard's subscriber
// table before its position is planned (channel_hub's comment); from then on, live messages
// at or below the last offset sent are dropped, and while a replay runs every live message is
// dropped, since the replay reads up to the head. A replay ends only when one read, on the
// session's thread and from memory, reached the head and was queued whole in the same turn.

#include "channels/channel_hub.hpp"
#include "channels/message.hpp"
#include "channels/subscriber.hpp"
#include "channels/subscriber_table.hpp"
#include "session/send_queue.hpp"
#include "session/session_metrics.hpp"
#include "session/session_port.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace kp::session {

class subscription_set {
public:
    // Events read per replay page.
    static constexpr std::size_t replay_page = 64;

    // `self` is what the shard's subscriber table holds for this connection.
    subscription_set(channels::channel_hub& hub, channels::subscriber_table& table, channels::subscriber* self,
                     send_queue& queue, session_port& port, session_metrics const& metrics);
    ~subscription_set();
    subscription_set(subscription_set const&) = delete;
    subscription_set& operator=(subscription_set const&) = delete;

    std::size_t size() const { return subs_.size(); }
    bool contains(std::string const& channel) const { return subs_.contains(channel); }
    bool replaying(std::string const& channel) const;
    // The offset of the channel's last event queued, or where its replay starts; nullopt
    // before its `subscribed` reply is queued.
    std::optional<std::uint64_t> position(std::string const& channel) const;

    // Registers `channel` in the shard's table and the hub's count: call before planning.
    void enter(std::string const& channel);
    // Starts the subscription from `plan` (the hub's answer after enter()); replays if asked.
    void start(std::string const& channel, channels::resume_plan const& plan);
    // Leaves `channel` (false when it was not subscribed).
    bool leave(std::string const& channel);
    void leave_all();

    // A live message: queued when it is the next offset of a subscribed channel.
    void deliver(channels::message_ptr const& m);
    // Queues more history while the send queue is below its low-water mark.
    void pump();

private:
    struct subscription {
        std::uint64_t sent = 0;
        bool replaying = false;
        bool loading = false;   // a page is being read off the session's thread
        // The replay page read last and how much of it is queued: a page is read whole but
        // queued only up to the low-water mark; the rest goes first at the next pump.
        std::vector<channels::message_ptr> page;
        std::size_t queued_of_page = 0;
    };

    std::size_t low_water() const;
    void read_off_thread(std::string const& channel, subscription& sub);
    void on_page(std::string const& channel, std::uint64_t after, std::vector<channels::message_ptr> page,
                 bool failed);
    // Makes `page` the replay page and queues it (up to `max_queued_bytes`); false (the
    // connection is closing) when it does not follow on from `sub.sent`.
    bool take_page(subscription& sub, std::vector<channels::message_ptr> page, std::size_t max_queued_bytes);
    void queue_page(subscription& sub, std::size_t max_queued_bytes);
    // Drops the end of the page's unqueued rest while this connection's pages hold more than
    // `budget` bytes not yet queued (what is dropped is read again later).
    void keep_page_within(subscription& sub, std::size_t budget);
    void forget_page(subscription& sub);
    void count_read_ahead(std::int64_t bytes);
    void queue_event(channels::message_ptr const& m);
    void fail(std::uint16_t code, std::string const& reason);

    channels::channel_hub& hub_;
    channels::subscriber_table& table_;
    channels::subscriber* self_;
    send_queue& queue_;
    session_port& port_;
    session_metrics const& metrics_;
    std::unordered_map<std::string, subscription> subs_;
    std::size_t page_bytes_ = 0;   // frame bytes read for a replay and not queued yet, every page
    bool failed_ = false;          // a store error or a trimmed history closed the connection
};

}  // namespace kp::session
