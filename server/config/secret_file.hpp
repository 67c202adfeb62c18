#pragma once
// A secret read from a file (--publish-secret-file, --jwt-secret-file, --admin-secret-file):
// the whole file, less its trailing newlines ("\n" or "\r\n"). An unreadable or empty file, or
// one with a line that is the mask --print-config shows, is refused with a message naming `option` and the
// file (never the secret).

#include <string>
#include <variant>

namespace kp::server {

struct secret_file_error {
    std::string message;
};

class secret_file {
public:
    static constexpr std::size_t max_bytes = 64 * 1024;

    // `option` is the flag's name without the dashes ("publish-secret-file").
    static std::variant<std::string, secret_file_error> read(std::string const& option, std::string const& path);
};

}  // namespace kp::server
