#include "bench/loadgen/sse_subscriber.hpp"

#include <boost/asio/write.hpp>

namespace kp::loadgen {

namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

}  // namespace

void sse_subscriber::start(asio::ip::tcp::socket socket, std::optional<resume_position> since) {
    socket_ = std::make_unique<asio::ip::tcp::socket>(std::move(socket));
    reader_ = {};
    body_.clear();
    parser_ = {};
    request_ = "GET " + protocol_.event_stream_target(plan_.channel, since) + " HTTP/1.1\r\nHost: " +
               url_.host_header() +
               "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nUser-Agent: kp-loadgen\r\n\r\n";
    asio::async_write(*socket_, asio::buffer(request_), [self = self()](error_code ec, std::size_t) {
        if (ec) return self->read_ended();
        self->request_.clear();
        self->read_next();
    });
}

void sse_subscriber::read_next() {
    socket_->async_read_some(asio::buffer(in_), [self = self()](error_code ec, std::size_t n) {
        if (ec) return self->read_ended();
        self->on_bytes(std::string_view(self->in_.data(), n));
        if (self->reading()) self->read_next();
    });
}

void sse_subscriber::on_bytes(std::string_view bytes) {
    bool const had_head = reader_.head_done();
    body_.clear();
    if (!reader_.feed(bytes, body_)) {
        close_socket();   // malformed: the pending read, if any, ends it
        return read_ended();
    }
    if (!had_head && reader_.head_done()) {
        auto const type = reader_.header("Content-Type");
        if (reader_.status() != 200 || !type.starts_with("text/event-stream")) {
            ++stats_.error_frames;
            close_socket();
            return read_ended();
        }
        if (protocol_.subscribed_on_open()) on_subscribed();
    }
    if (!body_.empty())
        parser_.feed(body_, [this](sse_message const& m) { handle(protocol_.decode_event(m.event, m.data)); });
    if (reader_.ended()) {
        close_socket();
        read_ended();
    }
}

void sse_subscriber::shut() { close_socket(); }

void sse_subscriber::close_socket() {
    if (!socket_) return;
    error_code ignored;
    socket_->close(ignored);
}

}  // namespace kp::loadgen
