#include "webhooks/delivery_plan.hpp"

#include <algorithm>

namespace kp::webhooks {

delivery_step delivery_plan::next(cursor_position const& at, history_view const& view, unsigned max_batch) {
    delivery_step step;
    // After a resync the consumer has fetched Kinto up to now: deliveries go on from the
    // oldest event kept (or, with nothing kept, from the next one published).
    auto resync = [&] {
        step.what = delivery_step::kind::resync;
        step.after = {view.epoch, view.first > 0 ? view.first - 1 : view.last, at.timestamp};
        return step;
    };
    // A position of another epoch names offsets of a history that is gone; one beyond the
    // last offset cannot be trusted either.
    if (at.epoch != view.epoch || at.offset > view.last) return resync();
    if (at.offset == view.last) return step;   // idle: nothing new
    // Events after the position were trimmed (by count or age): the history has a hole.
    if (view.first == 0 || view.first > at.offset + 1) return resync();
    step.what = delivery_step::kind::events;
    step.first = at.offset + 1;
    step.last = std::min<std::uint64_t>(view.last, at.offset + std::max(1u, max_batch));
    step.after = {view.epoch, step.last, at.timestamp};
    return step;
}

}  // namespace kp::webhooks
