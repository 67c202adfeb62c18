#include "bench/loadgen/http_stream_reader.hpp"

#include <algorithm>
#include <cctype>

namespace kp::loadgen {

namespace {

constexpr std::size_t max_head = 16 * 1024;

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string_view http_stream_reader::header(std::string_view name) const {
    std::string_view rest(head_);
    auto line_end = rest.find("\r\n");
    if (line_end == std::string_view::npos) return {};
    rest.remove_prefix(line_end + 2);   // the status line
    while (!rest.empty()) {
        line_end = rest.find("\r\n");
        auto const line = rest.substr(0, line_end);
        if (line.empty()) break;
        auto const colon = line.find(':');
        if (colon != std::string_view::npos && iequal(trim(line.substr(0, colon)), name))
            return trim(line.substr(colon + 1));
        if (line_end == std::string_view::npos) break;
        rest.remove_prefix(line_end + 2);
    }
    return {};
}

bool http_stream_reader::parse_head() {
    // HTTP/1.x NNN reason
    std::string_view const h(head_);
    if (h.size() < 12 || !h.starts_with("HTTP/1.") || h[8] != ' ') return false;
    unsigned status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (h[i] < '0' || h[i] > '9') return false;
        status = status * 10 + static_cast<unsigned>(h[i] - '0');
    }
    status_ = status;
    auto const te = header("Transfer-Encoding");
    std::string lower(te);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    chunked_ = lower.find("chunked") != std::string::npos;
    return true;
}

bool http_stream_reader::feed(std::string_view bytes, std::string& body) {
    while (!bytes.empty()) {
        switch (phase_) {
        case phase::head: {
            // the end of the head may straddle two reads: look from a little before the new bytes
            std::size_t const from = head_.size() >= 3 ? head_.size() - 3 : 0;
            head_.append(bytes);
            auto const end = head_.find("\r\n\r\n", from);
            if (end == std::string::npos) {
                if (head_.size() > max_head) return phase_ = phase::failed, false;
                return true;
            }
            std::string const rest = head_.substr(end + 4);
            head_.resize(end + 4);
            if (!parse_head()) return phase_ = phase::failed, false;
            phase_ = chunked_ ? phase::chunk_size : phase::body;
            if (rest.empty()) return true;
            return feed(rest, body);
        }
        case phase::body:
            body.append(bytes);
            return true;
        case phase::chunk_size: {
            auto const nl = bytes.find('\n');
            size_line_.append(bytes.substr(0, nl));
            if (size_line_.size() > 1024) return phase_ = phase::failed, false;
            if (nl == std::string_view::npos) return true;
            bytes.remove_prefix(nl + 1);
            std::uint64_t size = 0;
            std::size_t digits = 0;
            for (char c : size_line_) {
                int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (v < 0) break;   // ";ext" or "\r"
                if (++digits > 15) return phase_ = phase::failed, false;
                size = size * 16 + static_cast<std::uint64_t>(v);
            }
            size_line_.clear();
            if (digits == 0) return phase_ = phase::failed, false;
            if (size == 0) {
                phase_ = phase::ended;   // trailers, if any, are not read
                return true;
            }
            chunk_left_ = size;
            phase_ = phase::chunk_data;
            break;
        }
        case phase::chunk_data: {
            auto const n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, bytes.size()));
            body.append(bytes.substr(0, n));
            bytes.remove_prefix(n);
            chunk_left_ -= n;
            if (chunk_left_ == 0) phase_ = phase::chunk_end;
            break;
        }
        case phase::chunk_end: {
            // the CRLF after the data
            auto const nl = bytes.find('\n');
            if (nl == std::string_view::npos) return true;   // only the \r so far
            bytes.remove_prefix(nl + 1);
            phase_ = phase::chunk_size;
            break;
        }
        case phase::ended:
            return true;
        case phase::failed:
            return false;
        }
    }
    return true;
}

}  // namespace kp::loadgen
