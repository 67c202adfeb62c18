#pragma once
// The text/event-stream format (the HTML standard's "event stream interpretation"), read as it
// arrives: lines end with LF or CRLF; `event:`, `data:` (several joined by LF) and `id:` fields;
// comment lines (`: ping`) and `retry:` skipped; a blank line dispatches the message if it has
// data. Socket-free, so the unit tests feed it any split of the text.

#include <functional>
#include <string>
#include <string_view>

namespace kp::loadgen {

struct sse_message {
    std::string event;   // empty: an unnamed message (EventSource's `message`)
    std::string data;
    std::string id;      // the message's `id:`, empty when it had none
};

class event_stream_parser {
public:
    using sink = std::function<void(sse_message const&)>;

    // Consumes `text`; calls `on_message` for each complete message. A line longer than
    // `max_line` bytes is cut there.
    void feed(std::string_view text, sink const& on_message);

    static constexpr std::size_t max_line = 16 * 1024 * 1024;

private:
    void line(std::string_view l, sink const& on_message);

    std::string partial_;    // a line not ended yet
    sse_message message_;
    bool has_data_ = false;
    bool skip_lf_ = false;   // the last text ended with CR: an LF first in the next one belongs to it
};

}  // namespace kp::loadgen
