#pragma once
// Writes Redis commands in RESP: an array of bulk strings, binary-safe. The replies are parsed
// by hiredis's reader (redis_reply_reader).

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace kp::store {

class resp_encoder {
public:
    // Appends one command (its name and arguments) to `out`.
    static void append(std::string& out, std::vector<std::string> const& args);
    static std::string encode(std::vector<std::string> const& args);
};

}  // namespace kp::store
