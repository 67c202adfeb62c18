#include "websocket/message_deflater.hpp"

#include <zlib.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace kp::websocket {

namespace {

// The thread's compressor: 32 KiB window (raw DEFLATE: negative window bits), zlib's default
// memory level; about 256 KiB per thread that compresses.
class thread_deflater {
public:
    thread_deflater() {
        if (deflateInit2(&stream_, message_deflater::level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            throw std::bad_alloc();
    }
    ~thread_deflater() { deflateEnd(&stream_); }
    thread_deflater(thread_deflater const&) = delete;
    thread_deflater& operator=(thread_deflater const&) = delete;

    std::string deflate(std::string_view in, int level) {
        deflateReset(&stream_);
        if (level != level_) {
            deflateParams(&stream_, level, Z_DEFAULT_STRATEGY);   // nothing compressed yet: no flush
            level_ = level;
        }
        std::string out;
        // The bound of a finished stream, plus the sync flush's empty stored block.
        out.resize(deflateBound(&stream_, static_cast<uLong>(in.size())) + 16);
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        stream_.avail_in = static_cast<uInt>(in.size());
        std::size_t produced = 0;
        for (;;) {
            stream_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
            stream_.avail_out = static_cast<uInt>(out.size() - produced);
            int const rc = ::deflate(&stream_, Z_SYNC_FLUSH);
            produced = out.size() - stream_.avail_out;
            if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("deflate failed");
            if (stream_.avail_in == 0 && stream_.avail_out > 0) break;   // all in, all flushed
            out.resize(out.size() * 2);
        }
        out.resize(produced);
        // A sync flush ends with an empty stored block, 00 00 ff ff: RFC 7692 drops it.
        if (out.size() >= 4 && std::memcmp(out.data() + out.size() - 4, "\x00\x00\xff\xff", 4) == 0)
            out.resize(out.size() - 4);
        return out;
    }

private:
    z_stream stream_{};
    int level_ = message_deflater::level;
};

}  // namespace

std::string message_deflater::deflate(std::string_view payload, int zlib_level) {
    thread_local thread_deflater deflater;
    return deflater.deflate(payload, zlib_level);
}

std::string message_deflater::encode_frame(opcode op, std::string_view payload) {
    if (payload.size() < threshold) return {};
    std::string const compressed = deflate(payload);
    std::string frame = frame_header(op, compressed.size(), true);
    if (frame.size() + compressed.size() >= frame_header(op, payload.size()).size() + payload.size()) return {};
    frame += compressed;
    return frame;
}

}  // namespace kp::websocket
