#include "server/sse/sse_stream_state.hpp"

#include "server/http/http_responses.hpp"
#include "server/sse/sse_event_id.hpp"
#include "server/sse/sse_text.hpp"
#include "session/close_code.hpp"

namespace kp::server {

sse_stream_state::sse_stream_state(sse_request const& request) : positions_(request.asked) {
    for (auto const& s : request.subscribes) channels_.push_back(s.channel);
    positions_.resize(channels_.size());
}

void sse_stream_state::subscribed(std::string const& channel, std::string const& epoch,
                                  std::optional<std::uint64_t> start) {
    ++answered_;
    if (epoch_.empty()) epoch_ = epoch;
    for (std::size_t i = 0; i < channels_.size(); ++i)
        if (channels_[i] == channel) positions_[i] = start;
}

void sse_stream_state::subscribe_failed(std::string_view code, std::string_view message) {
    if (answered_ >= channels_.size()) return;
    auto const& channel = channels_[answered_++];
    if (refusal_) return;
    refusal_ = refusal{sse_text::refusal_status(code), sse_text::refusal_errno(code),
                       channel + ": " + std::string(message)};
}

void sse_stream_state::closed_before_start(std::uint16_t close_code, std::string_view reason) {
    if (refusal_) return;
    bool const unauthorized = close_code == session::close_code::unauthorized;
    refusal_ = refusal{unauthorized ? 401u : 503u,
                       unauthorized ? kinto_errno::invalid_auth_token : kinto_errno::backend, std::string(reason)};
}

void sse_stream_state::moved(std::string_view channel, std::uint64_t offset) {
    // A handful of channels: a scan.
    for (std::size_t i = 0; i < channels_.size(); ++i) {
        if (channels_[i] == channel) {
            positions_[i] = offset;
            return;
        }
    }
}

std::string sse_stream_state::id_lines() const {
    std::string out;
    out.reserve(8 + epoch_.size() + 21 * positions_.size());
    out.append("id: ");
    sse_event_id::append(out, epoch_, positions_);
    out.append("\n\n");
    return out;
}

}  // namespace kp::server
