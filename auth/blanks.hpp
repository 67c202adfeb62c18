#pragma once
// Items of comma-separated lists (--public-channels, Kinto-Push-Signature) may have spaces or
// tabs around them.

#include <string_view>

namespace kp::auth {

inline std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace kp::auth
