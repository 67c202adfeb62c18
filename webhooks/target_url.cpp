#include "webhooks/target_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>

namespace kp::webhooks {
namespace {

bool is_space_or_control(char c) {
    auto const byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
}

std::string lowercase(std::string_view text) {
    std::string out{text};
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// A DNS host name (RFC 1123): dot-separated labels of letters, digits and hyphens, 1 to 63
// characters, not starting or ending with a hyphen, 253 characters at most, one final dot
// allowed. A name whose last label is a number is refused: resolvers read "2130706433" or
// "127.1" as IPv4 addresses.
std::string host_name_problem(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty()) return "the URL has no host";
    if (name.size() > 253) return "the host name is longer than 253 characters";
    std::string_view last;
    while (true) {
        auto const dot = name.find('.');
        auto const label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) return "the host is not a valid name (a label is empty or longer than 63 characters)";
        if (label.front() == '-' || label.back() == '-') return "the host is not a valid name (a label starts or ends with '-')";
        for (unsigned char c : label) {
            if (std::isalnum(c) == 0 && c != '-') return "the host is not a valid name (only letters, digits, '-' and '.')";
        }
        last = label;
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
    }
    if (all_digits(last)) return "the host is not a valid name or IP address";
    return {};
}

}  // namespace

std::string target_url::str() const {
    return (tls ? "https://" : "http://") + host_header + target;
}

std::variant<target_url, std::string> target_url::parse(std::string_view url) {
    if (url.size() > max_length) return "the URL is longer than " + std::to_string(max_length) + " bytes";
    if (std::any_of(url.begin(), url.end(), is_space_or_control)) return std::string{"the URL contains spaces or control characters"};
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return std::string{"the URL is not a valid absolute URL"};
    auto const& view = *parsed;

    target_url out;
    auto const scheme = view.scheme_id();
    if (scheme == boost::urls::scheme::http) {
        out.tls = false;
        out.port = 80;
    } else if (scheme == boost::urls::scheme::https) {
        out.tls = true;
        out.port = 443;
    } else {
        return std::string{"the URL's scheme must be http or https"};
    }
    if (!view.has_authority()) return std::string{"the URL has no host"};
    if (view.has_userinfo()) return std::string{"the URL must not contain credentials (user or password)"};

    switch (view.host_type()) {
    case boost::urls::host_type::ipv4:
        out.host = view.host_ipv4_address().to_string();
        out.host_header = out.host;
        break;
    case boost::urls::host_type::ipv6:
        out.host = view.host_ipv6_address().to_string();
        out.host_header = "[" + out.host + "]";
        break;
    case boost::urls::host_type::name: {
        auto const encoded = view.encoded_host();
        if (encoded.find('%') != std::string_view::npos) return std::string{"the host is not a valid name (percent-encoded)"};
        out.host = lowercase(encoded);
        if (auto problem = host_name_problem(out.host); !problem.empty()) return problem;
        out.host_header = out.host;
        break;
    }
    default:
        return std::string{"the host is not a valid name or IP address"};
    }
    if (out.host.empty()) return std::string{"the URL has no host"};

    if (view.has_port() && !view.port().empty()) {
        auto const port = std::string_view{view.port()};
        if (!all_digits(port) || port.size() > 5 || std::stoul(std::string{port}) > 65535) {
            return std::string{"the URL's port must be between 1 and 65535"};
        }
        auto const number = static_cast<std::uint16_t>(std::stoul(std::string{port}));
        if (number == 0) return std::string{"the URL's port must be between 1 and 65535"};
        if (number != out.port) out.host_header += ":" + std::to_string(number);
        out.port = number;
    }

    out.target = std::string{view.encoded_path()};
    if (out.target.empty()) out.target = "/";
    if (view.has_query()) out.target += "?" + std::string{view.encoded_query()};
    return out;
}

}  // namespace kp::webhooks
