#include "bench/loadgen/nchan_protocol.hpp"

#include "bench/loadgen/kinto_push_protocol.hpp"

namespace kp::loadgen {

publish_request nchan_protocol::publish(std::string const& channel, std::string const& payload,
                                        std::string const& unique) const {
    return {"/pub/" + channel, kinto_shaped_ ? kinto_push_protocol::event_body(channel, payload, unique) : payload,
            "application/json", {}};
}

received_frame nchan_protocol::decode_event(std::string_view event, std::string_view data) const {
    received_frame f;
    if (event.empty() && bench_payload::scan(data, f.fields)) f.type = received_frame::kind::event;
    return f;
}

received_frame nchan_protocol::decode(std::string_view frame) const {
    received_frame f;
    // skip the meta headers ("id: …\ncontent-type: …\n\n")
    auto const body = frame.find("\n\n");
    auto const payload = body == std::string_view::npos ? frame : frame.substr(body + 2);
    if (bench_payload::scan(payload, f.fields)) f.type = received_frame::kind::event;
    return f;
}

}  // namespace kp::loadgen
