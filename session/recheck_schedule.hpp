#pragma once
// When a connection asks Kinto again about its delegated subscriptions, and what each answer
// does (PROTOCOL.md section 3, "Authorization that ends"). Socket-free and clock-free: times
// are milliseconds of one monotonic clock, given by the caller.
//
// Every subscription granted is asked about again `period_ms` after it was last asked (its
// grant counts as an ask). due(now, lead) hands out the questions whose time comes before
// now + lead (the caller's next look, so that no gap exceeds the period), at most one in
// flight per channel. answered() says what the answer means:
//   allowed      keep; asked again period_ms after this question was asked;
//   forbidden    end_channel: the channel is dropped from the schedule;
//   unauthorized close_connection (the credentials are no longer accepted);
//   unavailable  keep, as if the last answer still held; asked again a period later.
// An answer to a question about a channel that was forgotten meanwhile (unsubscribed, even if
// subscribed again since) is stale and changes nothing.

#include "session/access_decision.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace kp::session {

class recheck_schedule {
public:
    struct question {
        std::string channel;
        std::uint64_t ticket = 0;   // which subscription of the channel it is about
        std::int64_t asked_ms = 0;
    };
    enum class verdict { keep, end_channel, close_connection, stale };

    // `period_ms` 0: nothing is ever asked again (no Kinto delegation).
    explicit recheck_schedule(std::int64_t period_ms) : period_ms_(period_ms) {}

    bool enabled() const { return period_ms_ > 0; }
    std::int64_t period_ms() const { return period_ms_; }
    std::size_t size() const { return entries_.size(); }
    bool contains(std::string const& channel) const { return entries_.contains(channel); }

    // `channel` was just allowed (its subscribe): first asked again period_ms after now_ms.
    void granted(std::string const& channel, std::int64_t now_ms);
    // `channel` is no longer subscribed.
    void forget(std::string const& channel);
    void clear() { entries_.clear(); }

    // The questions due before now_ms + lead_ms and not already asked, in no special order;
    // each is marked in flight until answered() or reask().
    std::vector<question> due(std::int64_t now_ms, std::int64_t lead_ms);
    verdict answered(question const& q, access_decision answer);
    // The answer cannot be used (the credentials changed meanwhile): asked again at the next look.
    void reask(question const& q);

private:
    struct entry {
        std::uint64_t ticket = 0;
        std::int64_t next_ms = 0;
        bool asking = false;
    };
    entry* current(question const& q);

    std::int64_t period_ms_;
    std::uint64_t tickets_ = 0;
    std::unordered_map<std::string, entry> entries_;
};

}  // namespace kp::session
