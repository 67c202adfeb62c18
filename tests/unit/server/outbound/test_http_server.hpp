#pragma once
// A small HTTP/1.1 server on 127.0.0.1 for the tests of the webhook client, on the test's own
// io_context: each request gets the reply its `answer` function chooses (raw bytes, then keep
// the connection or close it, or never answer). Plain or TLS; `silent` accepts and never reads
// (a TLS peer that never finishes its handshake).

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kp::test {

class test_http_server {
public:
    struct reply {
        std::string bytes;
        bool close_after = false;
        bool never = false;  // hold the connection, answer nothing
    };
    using request = boost::beast::http::request<boost::beast::http::string_body>;
    using answer_function = std::function<reply(request const&)>;

    test_http_server(boost::asio::io_context& io, answer_function answer,
                     std::shared_ptr<boost::asio::ssl::context> tls = nullptr)
        : acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}), answer_(std::move(answer)), tls_(std::move(tls)) {
        accept();
    }

    static reply ok(unsigned status, std::string reason = "OK", std::string body = "{}") {
        return {"HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body};
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::string url(std::string const& path = "/hook") const {
        return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port()) + path;
    }

    int accepted = 0;
    bool silent = false;
    std::vector<request> requests;

private:
    template <typename Stream>
    struct session {
        explicit session(Stream stream_in) : stream(std::move(stream_in)) {}
        Stream stream;
        boost::beast::flat_buffer buffer;
        request incoming;
        std::string outgoing;
    };

    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
            if (ec) return;
            ++accepted;
            if (silent) {
                held_.push_back(std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket)));
            } else if (tls_) {
                using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
                auto tls_session = std::make_shared<session<tls_stream>>(tls_stream{std::move(socket), *tls_});
                tls_session->stream.async_handshake(boost::asio::ssl::stream_base::server,
                                                    [this, tls_session](boost::system::error_code handshake_ec) {
                                                        if (!handshake_ec) serve(tls_session);
                                                    });
            } else {
                using plain = boost::asio::ip::tcp::socket;
                serve(std::make_shared<session<plain>>(std::move(socket)));
            }
            accept();
        });
    }

    template <typename Stream>
    void serve(std::shared_ptr<session<Stream>> const& current) {
        current->incoming = {};
        boost::beast::http::async_read(current->stream, current->buffer, current->incoming,
                                       [this, current](boost::system::error_code ec, std::size_t) {
                                           if (ec) return;
                                           requests.push_back(current->incoming);
                                           auto chosen = answer_(current->incoming);
                                           if (chosen.never) {
                                               held_.push_back(current);
                                               return;
                                           }
                                           current->outgoing = std::move(chosen.bytes);
                                           boost::asio::async_write(
                                               current->stream, boost::asio::buffer(current->outgoing),
                                               [this, current, close = chosen.close_after](boost::system::error_code write_ec,
                                                                                           std::size_t) {
                                                   if (write_ec) return;
                                                   if (close) {
                                                       boost::system::error_code ignored;
                                                       auto& socket = current->stream.lowest_layer();
                                                       socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
                                                       socket.close(ignored);
                                                       return;
                                                   }
                                                   serve(current);
                                               });
                                       });
    }

    boost::asio::ip::tcp::acceptor acceptor_;
    answer_function answer_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::vector<std::shared_ptr<void>> held_;
};

}  // namespace kp::test
