#include "channels/message.hpp"

#include <nlohmann/json.hpp>

namespace kp::channels {

std::shared_ptr<message const> message::from_record(std::string channel, std::uint64_t offset,
                                                    std::int64_t timestamp, std::string const& body) {
    auto m = std::make_shared<message>();
    m->frame.reserve(body.size() + channel.size() + 64);
    m->frame += R"({"type":"event","channel":)";
    m->frame += nlohmann::json(channel).dump();
    m->frame += R"(,"offset":)";
    m->frame += std::to_string(offset);
    m->frame += R"(,"timestamp":)";
    m->frame += std::to_string(timestamp);
    // The body is a JSON object: splice its members after ours.
    if (body.size() > 2) {
        m->frame += ',';
        m->frame.append(body, 1, std::string::npos);
    } else {
        m->frame += '}';
    }
    m->channel = std::move(channel);
    m->offset = offset;
    m->timestamp = timestamp;
    return m;
}

}  // namespace kp::channels
