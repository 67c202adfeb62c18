#include "server/telemetry/proc_stat.hpp"

#include "text/unsigned_number.hpp"

#include <algorithm>
#include <array>

namespace kp::server {

namespace {

// Fields after "(comm)", counted from field 3 (state) as 0.
constexpr std::size_t utime = 14 - 3, stime = 15 - 3, starttime = 22 - 3, vsize = 23 - 3, rss = 24 - 3;

}  // namespace

std::optional<proc_self_stat> parse_proc_self_stat(std::string_view text, long ticks_per_second, long page_size) {
    if (ticks_per_second <= 0 || page_size <= 0) return std::nullopt;
    // comm is whatever the process named itself: the fields start after its last ')'.
    auto const close = text.rfind(')');
    if (close == std::string_view::npos || text.find('(') > close) return std::nullopt;
    std::string_view rest = text.substr(close + 1);

    std::array<std::uint64_t, rss + 1> numbers{};
    std::size_t index = 0;
    while (index <= rss) {   // at most rss + 1 fields read
        auto const start = rest.find_first_not_of(" \n");
        if (start == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(start);
        auto const end = std::min(rest.find_first_of(" \n"), rest.size());
        auto const field = rest.substr(0, end);
        rest.remove_prefix(end);
        if (index == 0) {   // state: one letter
            if (field.size() != 1) return std::nullopt;
        } else if (index == utime || index == stime || index == starttime || index == vsize || index == rss) {
            auto const value = text::parse_unsigned(field);
            if (!value) return std::nullopt;
            numbers[index] = *value;
        }
        ++index;
    }
    auto const ticks = static_cast<double>(ticks_per_second);
    return proc_self_stat{static_cast<double>(numbers[utime] + numbers[stime]) / ticks,
                          static_cast<double>(numbers[starttime]) / ticks, numbers[vsize],
                          numbers[rss] * static_cast<std::uint64_t>(page_size)};
}

std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat) {
    constexpr std::string_view key = "btime ";
    std::size_t line = 0;
    while (line < proc_stat.size()) {   // each turn moves past one line
        auto end = proc_stat.find('\n', line);
        if (end == std::string_view::npos) end = proc_stat.size();
        auto const text = proc_stat.substr(line, end - line);
        if (text.starts_with(key)) return text::parse_unsigned(text.substr(key.size()));
        line = end + 1;
    }
    return std::nullopt;
}

}  // namespace kp::server
