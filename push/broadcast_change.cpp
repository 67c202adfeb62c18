#include "push/broadcast_change.hpp"

#include "websocket/frame_encoder.hpp"

#include <nlohmann/json.hpp>

namespace kp::push {

broadcast_change::broadcast_change(std::vector<entry> entries) : entries_(std::move(entries)) {
    for (auto const& e : entries_) mask_ |= std::uint64_t{1} << e.index;
    frame_ = frame_for(mask_);
}

frame_ptr broadcast_change::frame_for(std::uint64_t mask) const {
    if (mask == mask_ && frame_) return frame_;
    nlohmann::ordered_json broadcasts = nlohmann::ordered_json::object();
    for (auto const& e : entries_)
        if (mask & (std::uint64_t{1} << e.index)) broadcasts[e.id] = e.version;
    nlohmann::ordered_json frame{{"messageType", "broadcast"}, {"broadcasts", std::move(broadcasts)}};
    return std::make_shared<std::string const>(websocket::encode_frame(websocket::opcode::text, frame.dump()));
}

}  // namespace kp::push
