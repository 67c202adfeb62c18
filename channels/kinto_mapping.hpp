#pragma once
// Turns a POST /v1/events body (one Kinto event or {"events": [...]}) into the parts each
// channel stores, as PROTOCOL.md sections 1-2 say: validation, split of impacted_objects per
// target, bucket-delete cascade, per-part timestamps and the idempotency key.

#include "store/history_types.hpp"

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace kp::channels {

struct mapping_error {
    std::string message;   // "events[0].payload.action: must be one of create, update, delete"
};

class kinto_mapping {
public:
    // Collection channels of a bucket that kinto-push knows (history or local subscribers):
    // a bucket delete is delivered on each of them.
    using known_collections = std::function<std::vector<std::string>(std::string const& bucket_id)>;

    explicit kinto_mapping(known_collections known) : known_(std::move(known)) {}

    // Nothing is mapped when any event is bad: the error names the first bad field.
    std::variant<std::vector<store::append_event>, mapping_error> map(nlohmann::ordered_json const& body) const;

private:
    known_collections known_;
};

}  // namespace kp::channels
