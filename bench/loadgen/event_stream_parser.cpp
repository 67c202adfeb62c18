#include "bench/loadgen/event_stream_parser.hpp"

namespace kp::loadgen {

void event_stream_parser::feed(std::string_view text, sink const& on_message) {
    if (skip_lf_ && !text.empty() && text.front() == '\n') text.remove_prefix(1);
    skip_lf_ = false;
    while (!text.empty()) {
        auto const end = text.find_first_of("\r\n");
        if (end == std::string_view::npos) {
            if (partial_.size() < max_line) partial_.append(text.substr(0, max_line - partial_.size()));
            return;
        }
        if (partial_.empty()) {
            line(text.substr(0, end), on_message);   // the common case: no copy
        } else {
            if (partial_.size() < max_line) partial_.append(text.substr(0, std::min(end, max_line - partial_.size())));
            line(partial_, on_message);
            partial_.clear();
        }
        std::size_t next = end + 1;
        if (text[end] == '\r') {
            if (next < text.size()) {
                if (text[next] == '\n') ++next;
            } else {
                skip_lf_ = true;
            }
        }
        text.remove_prefix(next);
    }
}

void event_stream_parser::line(std::string_view l, sink const& on_message) {
    if (l.empty()) {
        if (has_data_) on_message(message_);
        message_.event.clear();
        message_.data.clear();
        message_.id.clear();
        has_data_ = false;
        return;
    }
    if (l.front() == ':') return;   // a comment
    auto const colon = l.find(':');
    std::string_view const field = l.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
        if (has_data_) message_.data += '\n';
        message_.data.append(value);
        has_data_ = true;
    } else if (field == "event") {
        message_.event.assign(value);
    } else if (field == "id") {
        message_.id.assign(value);
    }
}

}  // namespace kp::loadgen
