#include "webhooks/delivery_attempt.hpp"

#include "webhooks/delivery_body.hpp"

namespace kp::webhooks {

nlohmann::ordered_json delivery_attempt::to_json() const {
    nlohmann::ordered_json out;
    out["time"] = iso8601_utc(time_ms);
    out["channel"] = channel;
    out["first"] = first;
    out["last"] = last;
    out["type"] = type;
    out["delivery_id"] = delivery_id;
    out["status"] = status == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(status);
    out["error"] = error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(error);
    out["duration_ms"] = duration_ms;
    return out;
}

}  // namespace kp::webhooks
