#pragma once
// The response of a streaming HTTP/1.1 request (an event stream), read as it arrives: the head
// (status, and whether the body is chunked), then the body's bytes, de-chunked when the server
// chunks them (nginx, so nchan, does; kinto-push ends its stream with the connection instead).
// Socket-free, so the unit tests feed it any split of the bytes.

#include <cstdint>
#include <string>
#include <string_view>

namespace kp::loadgen {

class http_stream_reader {
public:
    // Consumes `bytes`, appending the body's bytes among them to `body`. False when the response
    // is malformed (a bad status line, a head over 16 KiB, a bad chunk size); the reader is then
    // done with this connection.
    bool feed(std::string_view bytes, std::string& body);

    bool head_done() const { return phase_ != phase::head; }
    unsigned status() const { return status_; }
    bool chunked() const { return chunked_; }
    std::string_view header(std::string_view name) const;   // the first such header's value, in the head
    bool ended() const { return phase_ == phase::ended; }   // chunked: the last chunk came

private:
    enum class phase { head, body, chunk_size, chunk_data, chunk_end, ended, failed };
    bool parse_head();

    phase phase_ = phase::head;
    std::string head_;
    std::string size_line_;
    std::uint64_t chunk_left_ = 0;
    unsigned status_ = 0;
    bool chunked_ = false;
};

}  // namespace kp::loadgen
