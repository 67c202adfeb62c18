#include "bench/loadgen/nchan_protocol.hpp"

namespace kp::loadgen {

received_frame nchan_protocol::decode(std::string_view frame) const {
    received_frame f;
    // skip the meta headers ("id: …\ncontent-type: …\n\n")
    auto const body = frame.find("\n\n");
    auto const payload = body == std::string_view::npos ? frame : frame.substr(body + 2);
    if (bench_payload::scan(payload, f.fields)) f.type = received_frame::kind::event;
    return f;
}

}  // namespace kp::loadgen
