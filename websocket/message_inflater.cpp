#include "websocket/message_inflater.hpp"

#include <zlib.h>

#include <algorithm>
#include <new>
#include <string>

namespace kp::websocket {

namespace {

// The output buffer keeps at most this much between messages (a larger one is let go at the
// next message).
constexpr std::size_t kept_buffer = 256 * 1024;
constexpr std::size_t first_buffer = 4096;

class thread_inflater {
public:
    thread_inflater() {
        if (inflateInit2(&stream_, -15) != Z_OK) throw std::bad_alloc();
    }
    ~thread_inflater() { inflateEnd(&stream_); }
    thread_inflater(thread_inflater const&) = delete;
    thread_inflater& operator=(thread_inflater const&) = delete;

    message_inflater::result inflate(std::string_view in, std::size_t limit) {
        using status = message_inflater::status;
        static constexpr unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
        inflateReset(&stream_);
        if (out_.capacity() > kept_buffer) std::string().swap(out_);
        // One byte more than the limit: producing it proves the message too big.
        std::size_t const cap = limit + 1;
        if (out_.size() < std::min(cap, first_buffer)) out_.resize(std::min(cap, first_buffer));
        std::size_t produced = 0;
        bool tail_given = false;
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        stream_.avail_in = static_cast<uInt>(in.size());
        for (;;) {
            if (stream_.avail_in == 0) {
                if (tail_given) break;
                tail_given = true;
                stream_.next_in = const_cast<Bytef*>(tail);
                stream_.avail_in = sizeof tail;
            }
            if (produced == out_.size()) {
                if (out_.size() >= cap) return {status::too_big, {}};
                out_.resize(std::min(cap, out_.size() * 2));
            }
            stream_.next_out = reinterpret_cast<Bytef*>(out_.data() + produced);
            stream_.avail_out = static_cast<uInt>(out_.size() - produced);
            int const rc = ::inflate(&stream_, Z_SYNC_FLUSH);
            produced = out_.size() - stream_.avail_out;
            if (produced > limit) return {status::too_big, {}};
            if (rc == Z_STREAM_END) {
                // A final block (BFINAL) ends the data: nothing of the message may follow it.
                if (!tail_given && stream_.avail_in > 0) return {status::invalid, {}};
                break;
            }
            if (rc == Z_BUF_ERROR && (stream_.avail_in == 0 || stream_.avail_out == 0)) continue;
            if (rc != Z_OK) return {status::invalid, {}};
        }
        return {status::ok, std::string_view(out_.data(), produced)};
    }

private:
    z_stream stream_{};
    std::string out_;
};

}  // namespace

message_inflater::result message_inflater::inflate(std::string_view compressed, std::size_t limit) {
    thread_local thread_inflater inflater;
    return inflater.inflate(compressed, limit);
}

}  // namespace kp::websocket
