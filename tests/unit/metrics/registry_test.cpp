// metrics/: counters, gauges and histograms, their families and the Prometheus text rendering.

#include "metrics/registry.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <thread>
#include <vector>

using kp::metrics::histogram;
using kp::metrics::registry;

namespace {

// The sample lines of an exposition text, without comments.
std::vector<std::string> samples(std::string const& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#') out.push_back(line);
    return out;
}

bool has_line(std::string const& text, std::string const& line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l == line) return true;
    return false;
}

}  // namespace

TEST_CASE("counters sum what every thread added", "[metrics]") {
    registry r;
    auto& c = r.add_counter("test_events_total", "events");
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) c.inc();
        });
    for (auto& t : threads) t.join();
    c.inc(5);
    CHECK(c.value() == 80005);
    CHECK(has_line(r.render(), "test_events_total 80005"));
}

TEST_CASE("a gauge balances adds and subs made on different threads", "[metrics]") {
    registry r;
    auto& g = r.add_gauge("test_bytes", "bytes");
    std::thread adder([&] {
        for (int i = 0; i < 1000; ++i) g.add(10);
    });
    adder.join();
    std::thread subber([&] {
        for (int i = 0; i < 400; ++i) g.sub(10);
    });
    subber.join();
    CHECK(g.value() == 6000);
    g.sub(7000);
    CHECK(g.value() == -1000);
}

TEST_CASE("histogram buckets are cumulative and inclusive of their bound", "[metrics]") {
    histogram h({0.1, 1, 10});
    for (double v : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0}) h.observe(v);
    auto s = h.collect();
    REQUIRE(s.cumulative.size() == 4);
    CHECK(s.cumulative[0] == 2);   // 0.05, 0.1
    CHECK(s.cumulative[1] == 4);   // + 0.5, 1
    CHECK(s.cumulative[2] == 5);   // + 5
    CHECK(s.cumulative[3] == 6);   // + 50 (+Inf)
    CHECK(s.count == 6);
    CHECK(s.sum == Approx(56.65));
}

TEST_CASE("histogram bounds must be finite and increasing", "[metrics]") {
    CHECK_THROWS_AS(histogram({1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(histogram({2, 1}), std::invalid_argument);
    CHECK_THROWS_AS(histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
    CHECK_NOTHROW(histogram(histogram::latency_bounds()));
}

TEST_CASE("a histogram renders buckets with le, +Inf, _sum and _count", "[metrics]") {
    registry r;
    auto& h = r.add_histogram("test_seconds", "latency", {0.25, 1});
    h.observe(0.5);
    h.observe(2);
    auto text = r.render();
    CHECK(has_line(text, "# TYPE test_seconds histogram"));
    CHECK(has_line(text, "test_seconds_bucket{le=\"0.25\"} 0"));
    CHECK(has_line(text, "test_seconds_bucket{le=\"1\"} 1"));
    CHECK(has_line(text, "test_seconds_bucket{le=\"+Inf\"} 2"));
    CHECK(has_line(text, "test_seconds_sum 2.5"));
    CHECK(has_line(text, "test_seconds_count 2"));
}

TEST_CASE("families render one sample per label set, with escaped values", "[metrics]") {
    registry r;
    auto& closes = r.counter_family("test_closes_total", "closes by code", {"code"});
    closes.with({"4008"}).inc(3);
    closes.with({"1000"}).inc();
    CHECK(&closes.with({"4008"}) == &closes.with({"4008"}));
    auto& odd = r.counter_family("test_odd_total", "line one\nback\\slash", {"kind"});
    odd.with({"a\"b\\c\nd"}).inc();
    auto text = r.render();
    CHECK(has_line(text, "# HELP test_closes_total closes by code"));
    CHECK(has_line(text, "# TYPE test_closes_total counter"));
    CHECK(has_line(text, "test_closes_total{code=\"1000\"} 1"));
    CHECK(has_line(text, "test_closes_total{code=\"4008\"} 3"));
    CHECK(has_line(text, "# HELP test_odd_total line one\\nback\\\\slash"));
    CHECK(has_line(text, "test_odd_total{kind=\"a\\\"b\\\\c\\nd\"} 1"));
    CHECK_THROWS_AS(closes.with({"1", "2"}), std::invalid_argument);
}

TEST_CASE("gauge functions are read when rendered", "[metrics]") {
    registry r;
    double value = 1;
    r.add_gauge_function("test_open", "open things", [&] { return value; });
    CHECK(has_line(r.render(), "test_open 1"));
    value = 42;
    CHECK(has_line(r.render(), "test_open 42"));
    CHECK(samples(r.render()).size() == 1);
}

TEST_CASE("the registry refuses bad or repeated names", "[metrics]") {
    registry r;
    r.add_counter("ok_total", "x");
    CHECK_THROWS_AS(r.add_counter("ok_total", "again"), std::invalid_argument);
    CHECK_THROWS_AS(r.add_counter("9starts_with_digit", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.add_counter("has-dash", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.counter_family("x_total", "x", {"le"}), std::invalid_argument);
    CHECK_THROWS_AS(r.counter_family("y_total", "x", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram_family("z_seconds", "x", {}, {2, 1}), std::invalid_argument);
}

TEST_CASE("a gauge collector renders the members it reads at each scrape, and only those", "[metrics]") {
    kp::metrics::registry r;
    std::vector<std::pair<std::vector<std::string>, double>> now = {{{"wh_a"}, 3}, {{"wh_b"}, 0.5}};
    r.add_gauge_collector("kp_lag", "lag per webhook", {"webhook"}, [&] { return now; });
    auto text = r.render();
    CHECK(text.find("# TYPE kp_lag gauge\n") != std::string::npos);
    CHECK(text.find("kp_lag{webhook=\"wh_a\"} 3\n") != std::string::npos);
    CHECK(text.find("kp_lag{webhook=\"wh_b\"} 0.5\n") != std::string::npos);
    now = {{{"wh_b"}, 1}};   // wh_a deleted: gone from the next scrape
    text = r.render();
    CHECK(text.find("wh_a") == std::string::npos);
    CHECK(text.find("kp_lag{webhook=\"wh_b\"} 1\n") != std::string::npos);
    CHECK_THROWS_AS(r.add_gauge_collector("kp_lag", "again", {"webhook"}, [&] { return now; }), std::invalid_argument);
}

TEST_CASE("a counter collector renders as a counter, with no sample when nothing could be read", "[metrics]") {
    kp::metrics::registry r;
    std::vector<std::pair<std::vector<std::string>, double>> now = {{{}, 1.25}};
    r.add_counter_collector("kp_cpu_seconds_total", "cpu", {}, [&] { return now; });
    auto text = r.render();
    CHECK(text.find("# TYPE kp_cpu_seconds_total counter\n") != std::string::npos);
    CHECK(text.find("\nkp_cpu_seconds_total 1.25\n") != std::string::npos);
    now = {};
    text = r.render();
    CHECK(text.find("# TYPE kp_cpu_seconds_total counter\n") != std::string::npos);
    CHECK(text.find("\nkp_cpu_seconds_total ") == std::string::npos);
    CHECK_THROWS_AS(r.add_gauge_collector("kp_cpu_seconds_total", "again", {}, [&] { return now; }),
                    std::invalid_argument);
}
