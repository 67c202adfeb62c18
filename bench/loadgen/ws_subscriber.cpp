#include "bench/loadgen/ws_subscriber.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>

namespace kp::loadgen {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;

constexpr std::size_t max_frame_bytes = 16 * 1024 * 1024;

}  // namespace

void ws_subscriber::start(asio::ip::tcp::socket socket, std::optional<resume_position> since) {
    buffer_.clear();
    ws_ = std::make_unique<websocket_stream>(std::move(socket));
    ws_->read_message_max(max_frame_bytes);
    ws_->auto_fragment(false);
    ws_->set_option(websocket::stream_base::timeout{std::chrono::seconds(10), websocket::stream_base::none(), false});
    if (deflate_) {
        websocket::permessage_deflate pmd;
        pmd.client_enable = true;
        pmd.server_no_context_takeover = true;
        pmd.client_no_context_takeover = true;
        ws_->set_option(pmd);
    }
    auto const subprotocol = protocol_.subprotocol();
    bool const deflate = deflate_;
    ws_->set_option(websocket::stream_base::decorator([subprotocol, deflate](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "kp-loadgen");
        if (!subprotocol.empty()) req.set(beast::http::field::sec_websocket_protocol, subprotocol);
        // The offer exactly as a browser's, without Beast's window-bits parameters; Beast takes
        // the parameters of the server's answer.
        if (deflate) req.set(beast::http::field::sec_websocket_extensions, deflate_offer);
    }));
    ws_->async_handshake(upgrade_, url_.host_header(), protocol_.subscribe_target(plan_.channel),
                         [self = self(), since](error_code he) {
                             if (he) return self->read_ended();
                             auto const ext = self->upgrade_[beast::http::field::sec_websocket_extensions];
                             if (ext.starts_with("permessage-deflate")) ++self->stats_.deflate_negotiated;
                             self->upgrade_ = {};
                             auto frame = self->protocol_.subscribe_frame(self->plan_.channel, since);
                             self->read_next();
                             if (!frame) return self->on_subscribed();
                             self->outgoing_ = std::move(*frame);
                             self->ws_->text(true);
                             self->ws_->async_write(asio::buffer(self->outgoing_), [self](error_code we, std::size_t) {
                                 if (we && self->current() == state::opening) self->fail_open();
                             });
                         });
}

void ws_subscriber::read_next() {
    ws_->async_read(buffer_, [self = self()](error_code ec, std::size_t) {
        if (ec) return self->read_ended();
        auto const data = self->buffer_.cdata();
        self->handle(self->protocol_.decode(std::string_view(static_cast<char const*>(data.data()), data.size())));
        self->buffer_.consume(self->buffer_.size());
        if (self->reading()) self->read_next();
    });
}

void ws_subscriber::shut() {
    ws_->async_close(websocket::close_code::normal, [self = self()](error_code ec) {
        // the pending read ends with `closed` once the server answered; on a failed close, end it now
        if (ec) self->close_socket();
    });
}

void ws_subscriber::close_socket() {
    if (!ws_) return;
    error_code ignored;
    beast::get_lowest_layer(*ws_).socket().close(ignored);
}

}  // namespace kp::loadgen
