#include "channels/message.hpp"

#include "websocket/frame_encoder.hpp"

#include <nlohmann/json.hpp>

namespace kp::channels {

std::shared_ptr<message const> message::from_record(std::string channel, std::uint64_t offset,
                                                    std::int64_t timestamp, std::string const& body) {
    auto m = std::make_shared<message>();
    std::string text;
    text.reserve(body.size() + channel.size() + 64);
    text += R"({"type":"event","channel":)";
    text += nlohmann::json(channel).dump();
    text += R"(,"offset":)";
    text += std::to_string(offset);
    text += R"(,"timestamp":)";
    text += std::to_string(timestamp);
    // The body is a JSON object: splice its members after ours.
    if (body.size() > 2) {
        text += ',';
        text.append(body, 1, std::string::npos);
    } else {
        text += '}';
    }
    m->wire = websocket::frame_header(websocket::opcode::text, text.size());
    m->header_size = m->wire.size();
    m->wire += text;
    m->channel = std::move(channel);
    m->offset = offset;
    m->timestamp = timestamp;
    return m;
}

}  // namespace kp::channels
