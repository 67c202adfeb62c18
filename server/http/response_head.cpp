#include "server/http/response_head.hpp"

#include <boost/beast/http/status.hpp>

namespace kp::server {

void append_response_head(std::string& head, http_response const& response) {
    head += "HTTP/";
    head += static_cast<char>('0' + response.version() / 10);
    head += '.';
    head += static_cast<char>('0' + response.version() % 10);
    head += ' ';
    head += std::to_string(response.result_int());   // three digits: a status is 100..999
    head += ' ';
    auto const reason = response.reason();   // empty unless one was set
    head += reason.empty() ? boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(
                                 response.result_int()))
                           : reason;
    head += "\r\n";
    for (auto const& field : response) {
        head += field.name_string();
        head += ": ";
        head += field.value();
        head += "\r\n";
    }
    head += "\r\n";
}

}  // namespace kp::server
