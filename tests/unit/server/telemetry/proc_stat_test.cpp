// server::parse_proc_self_stat and parse_boot_time: the process figures of /metrics from the
// text of /proc/self/stat and /proc/stat, as the kernel writes them (proc(5)).

#include "server/telemetry/proc_stat.hpp"

#include <catch2/catch.hpp>

#include <string>

using kp::server::parse_boot_time;
using kp::server::parse_proc_self_stat;

namespace {

// A real line of /proc/self/stat (from `cat`): utime 250, stime 50, starttime 3658989,
// vsize 3133440, rss 412 pages; tpgid -1 and a negative nice value on the way.
std::string stat_line(std::string const& comm) {
    return "26684 (" + comm +
           ") R 26581 26581 21932 0 -1 4194304 97 0 0 0 250 50 0 0 20 -5 1 0 3658989 3133440 412 "
           "18446744073709551615 94745287188480 94745287208361 140723791787920 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
           "94745287224368 94745287225984 94746092269568 140723791792566 140723791792586 140723791792586 "
           "140723791794155 0\n";
}

}  // namespace

TEST_CASE("the CPU seconds, start, virtual and resident sizes of /proc/self/stat", "[proc_stat]") {
    auto const s = parse_proc_self_stat(stat_line("kinto-push"), 100, 4096);
    REQUIRE(s);
    CHECK(s->cpu_seconds == Approx(3.0));              // (250 + 50) / 100
    CHECK(s->start_after_boot == Approx(36589.89));    // 3658989 / 100
    CHECK(s->virtual_bytes == 3133440);
    CHECK(s->resident_bytes == 412u * 4096u);
}

TEST_CASE("a process name with blanks and parentheses does not shift the fields", "[proc_stat]") {
    auto const s = parse_proc_self_stat(stat_line("a) R 1 (b c"), 100, 4096);
    REQUIRE(s);
    CHECK(s->cpu_seconds == Approx(3.0));
    CHECK(s->resident_bytes == 412u * 4096u);
}

TEST_CASE("a /proc/self/stat of another shape is refused, not misread", "[proc_stat]") {
    CHECK_FALSE(parse_proc_self_stat("", 100, 4096));
    CHECK_FALSE(parse_proc_self_stat("26684 kinto-push R 1 2 3", 100, 4096));   // no (comm)
    CHECK_FALSE(parse_proc_self_stat("26684 (kinto-push) R 26581 26581 21932 0 -1 4194304 97 0 0 0 250 50", 100, 4096));
    CHECK_FALSE(parse_proc_self_stat(stat_line("x").replace(stat_line("x").find(" 250 "), 5, " 2x0 "), 100, 4096));
    CHECK_FALSE(parse_proc_self_stat(stat_line("x"), 0, 4096));
    CHECK_FALSE(parse_proc_self_stat(stat_line("x"), 100, -1));
}

TEST_CASE("the boot time is the btime line of /proc/stat", "[proc_stat]") {
    std::string const proc_stat =
        "cpu  4705 356 584 3699 23 23 0 0 0 0\n"
        "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0\n"
        "intr 1462898\n"
        "ctxt 115315\n"
        "btime 1796576532\n"
        "processes 26685\n";
    CHECK(parse_boot_time(proc_stat) == 1796576532u);
    CHECK_FALSE(parse_boot_time("cpu 1 2 3\nprocesses 4\n"));
    CHECK_FALSE(parse_boot_time("cpu 1 2 3\nxbtime 5\n"));
    CHECK_FALSE(parse_boot_time("btime soon\n"));
    CHECK(parse_boot_time("btime 42") == 42u);   // last line without a newline
}
