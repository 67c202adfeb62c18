#include "store/resp_encoder.hpp"

namespace kp::store {

void resp_encoder::append(std::string& out, std::vector<std::string> const& args) {
    out += '*';
    out += std::to_string(args.size());
    out += "\r\n";
    for (auto const& arg : args) {
        out += '$';
        out += std::to_string(arg.size());
        out += "\r\n";
        out += arg;
        out += "\r\n";
    }
}

std::string resp_encoder::encode(std::vector<std::string> const& args) {
    std::string out;
    append(out, args);
    return out;
}

}  // namespace kp::store
