#include "server/config/secret_file.hpp"

#include "server/config/option_table.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace kp::server {

std::variant<std::string, secret_file_error> secret_file::read(std::string const& option, std::string const& path) {
    std::string const where = "--" + option + " " + path;
    std::ifstream in(path, std::ios::binary);
    if (!in) return secret_file_error{where + ": cannot be read (" + std::strerror(errno) + ")"};
    std::string text;
    char buffer[4096];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_bytes) return secret_file_error{where + ": over " + std::to_string(max_bytes) + " bytes"};
    }
    if (in.bad()) return secret_file_error{where + ": cannot be read"};
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) return secret_file_error{where + ": is empty"};
    // A line that is the mask (--jwt-secret-file holds one secret a line).
    std::string const line_text = "\n" + text + "\n";
    if (line_text.find("\n" + std::string(option_table::mask) + "\n") != std::string::npos ||
        line_text.find("\n" + std::string(option_table::mask) + "\r\n") != std::string::npos)
        return secret_file_error{where + ": holds the mask --print-config shows, not a secret"};
    return text;
}

}  // namespace kp::server
