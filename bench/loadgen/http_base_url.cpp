#include "bench/loadgen/http_base_url.hpp"

#include "text/unsigned_number.hpp"

#include <boost/asio/ip/address_v4.hpp>


namespace kp::loadgen {

std::variant<http_base_url, std::string> http_base_url::parse(std::string const& text) {
    std::string rest;
    for (char const* scheme : {"http://", "ws://"}) {
        if (text.starts_with(scheme)) rest = text.substr(std::char_traits<char>::length(scheme));
    }
    if (rest.empty()) return std::string("must start with http:// or ws://");
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (rest.find('/') != std::string::npos) return std::string("must be a base URL without a path");
    auto const colon = rest.rfind(':');
    if (colon == std::string::npos) return std::string("needs a port (http://127.0.0.1:PORT)");
    http_base_url url;
    url.host = rest.substr(0, colon);
    boost::system::error_code ec;
    auto const address = boost::asio::ip::make_address_v4(url.host, ec);
    if (ec || !address.is_loopback()) return std::string("the host must be a loopback IPv4 address (127.x.x.x)");
    auto const port_text = rest.substr(colon + 1);
    auto const port = text::parse_unsigned(port_text);
    if (!port || *port == 0 || *port > 65535) return std::string("bad port '" + port_text + "'");
    url.port = static_cast<std::uint16_t>(*port);
    return url;
}

}  // namespace kp::loadgen
