#include "server/webhooks/delivery_builder.hpp"

#include "webhooks/delivery_body.hpp"
#include "webhooks/webhook_signature.hpp"

#include <string_view>
#include <vector>

namespace kp::server {

delivery_lookup delivery_builder::prepare(channels::channel_hub& hub, std::string const& webhook_id,
                                          std::string const& channel, webhooks::cursor_position const& at,
                                          unsigned max_batch, std::int64_t now_ms) {
    auto& history = hub.history();
    delivery_lookup out;
    // Retention may trim between the span and the read: then plan again from the new span.
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto const span = history.span(channel);
        out.last_offset = span.last;
        webhooks::history_view const view{history.epoch(), span.first, span.last};
        auto step = webhooks::delivery_plan::next(at, view, max_batch);
        using kind = webhooks::delivery_step::kind;
        if (step.what == kind::idle) return out;
        prepared_delivery d;
        d.channel = channel;
        d.after = step.after;
        if (step.what == kind::resync) {
            d.type = "kinto.resync";
            d.body = webhooks::resync_body(channel, at.timestamp, now_ms);
            d.delivery_id = webhooks::delivery_id(webhook_id, view.epoch, channel, step.after.offset, step.after.offset, d.type);
            out.next = std::move(d);
            return out;
        }
        auto messages = hub.read(channel, step.first - 1, static_cast<std::size_t>(step.last - step.first + 1));
        if (messages.empty() || messages.front()->offset != step.first) continue;   // trimmed meanwhile
        // Consecutive offsets only: a batch never spans a hole.
        std::vector<std::string_view> frames;
        std::uint64_t expected = step.first;
        for (auto const& m : messages) {
            if (m->offset != expected) break;
            frames.push_back(m->frame());
            d.after.offset = m->offset;
            d.after.timestamp = m->timestamp;
            ++expected;
        }
        d.first = step.first;
        d.last = d.after.offset;
        d.events = frames.size();
        d.oldest_ms = messages.front()->timestamp;
        d.type = max_batch > 1 ? "kinto.events" : "kinto.event";
        d.body = max_batch > 1 ? webhooks::batch_body(frames, now_ms) : webhooks::event_body(frames.front(), now_ms);
        d.delivery_id = webhooks::delivery_id(webhook_id, view.epoch, channel, d.first, d.last, d.type);
        out.next = std::move(d);
        return out;
    }
    return out;   // the history keeps moving under us: the next poke tries again
}

}  // namespace kp::server
