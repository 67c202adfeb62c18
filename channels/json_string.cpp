#include "channels/json_string.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace kp::channels {

void append_json_string(std::string& out, std::string_view text) {
    bool const plain = std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (!plain) {
        out += nlohmann::json(std::string(text)).dump();
        return;
    }
    out += '"';
    out += text;
    out += '"';
}

}  // namespace kp::channels
