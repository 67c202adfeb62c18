#include "channels/message.hpp"

#include "channels/json_string.hpp"
#include "websocket/frame_encoder.hpp"
#include "websocket/message_deflater.hpp"

#include <cassert>

namespace kp::channels {

message::~message() {
    delete sse_data_.load(std::memory_order_acquire);
}

std::shared_ptr<std::string const> message::sse_data(std::shared_ptr<message const> const& self) const {
    auto const* text = sse_data_.load(std::memory_order_acquire);
    if (!text) {
        auto made = std::make_unique<std::string>();
        made->reserve(frame().size() + 7);
        made->append("data: ").append(frame()).push_back('\n');
        // Two shards may build it at once: the first one stored is kept, the other dropped.
        std::string const* expected = nullptr;
        if (sse_data_.compare_exchange_strong(expected, made.get(), std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
            text = made.release();
        } else {
            text = expected;
        }
    }
    return std::shared_ptr<std::string const>(self, text);
}

std::shared_ptr<message const> message::from_record(std::string channel, std::uint64_t offset,
                                                    std::int64_t timestamp, std::string const& body) {
    // {"type":"event","channel":…,"offset":…,"timestamp":…, then the body's members: its
    // length is known before it is written, so the header goes first and the frame is built
    // in place, in one buffer (only the channel's JSON text is built apart, first).
    std::string channel_json;
    append_json_string(channel_json, channel);
    std::string const offset_text = std::to_string(offset);
    std::string const timestamp_text = std::to_string(timestamp);
    static constexpr std::string_view head = R"({"type":"event","channel":)";
    static constexpr std::string_view offset_key = R"(,"offset":)";
    static constexpr std::string_view timestamp_key = R"(,"timestamp":)";
    bool const members = body.size() > 2;   // the body is a JSON object: its members follow ours
    std::size_t const text_size = head.size() + channel_json.size() + offset_key.size() + offset_text.size() +
                                  timestamp_key.size() + timestamp_text.size() + (members ? body.size() : 1);

    auto m = std::make_shared<message>();
    m->wire = websocket::frame_header(websocket::opcode::text, text_size);
    m->header_size = m->wire.size();
    m->wire.reserve(m->header_size + text_size);
    m->wire += head;
    m->wire += channel_json;
    m->wire += offset_key;
    m->wire += offset_text;
    m->wire += timestamp_key;
    m->wire += timestamp_text;
    if (members) {
        m->wire += ',';
        m->wire.append(body, 1, std::string::npos);
    } else {
        m->wire += '}';
    }
    assert(m->wire.size() == m->header_size + text_size);
    m->channel = std::move(channel);
    m->offset = offset;
    m->timestamp = timestamp;
    return m;
}

std::string const& message::deflated() const {
    std::call_once(deflate_once_,
                   [this] { deflated_ = websocket::message_deflater::encode_frame(websocket::opcode::text, frame()); });
    return deflated_;
}

}  // namespace kp::channels
