#pragma once
// Every metric of a process, by name, and their rendering in the Prometheus text exposition
// format 0.0.4. Metrics are registered at start-up (not thread-safe); updating them and
// render() are thread-safe.

#include "metrics/counter.hpp"
#include "metrics/gauge.hpp"
#include "metrics/histogram.hpp"
#include "metrics/metric_family.hpp"

#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace kp::metrics {

class registry {
public:
    static constexpr char const* content_type = "text/plain; version=0.0.4; charset=utf-8";

    // Each throws std::invalid_argument for a name or label name Prometheus refuses, or a name
    // already registered.
    metric_family<counter>& counter_family(std::string name, std::string help, std::vector<std::string> labels);
    metric_family<gauge>& gauge_family(std::string name, std::string help, std::vector<std::string> labels);
    metric_family<histogram>& histogram_family(std::string name, std::string help, std::vector<std::string> labels,
                                               std::vector<double> bounds);
    // Without labels.
    counter& add_counter(std::string name, std::string help);
    gauge& add_gauge(std::string name, std::string help);
    histogram& add_histogram(std::string name, std::string help, std::vector<double> bounds);
    // A gauge read when scraped (a size kept elsewhere). `read` must be thread-safe.
    void add_gauge_function(std::string name, std::string help, std::function<double()> read);
    // Gauges by label values, all read when scraped (figures kept elsewhere, members that come
    // and go: one per webhook). `read` must be thread-safe and return values of `labels`' size.
    using labelled_values = std::vector<std::pair<std::vector<std::string>, double>>;
    void add_gauge_collector(std::string name, std::string help, std::vector<std::string> labels,
                             std::function<labelled_values()> read);
    // The same for counters kept elsewhere (a process's CPU seconds, read from the kernel). An
    // empty answer renders no sample (the figure could not be read).
    void add_counter_collector(std::string name, std::string help, std::vector<std::string> labels,
                               std::function<labelled_values()> read);

    // The exposition text of every metric, in registration order.
    std::string render() const;

private:
    struct collector {
        std::vector<std::string> labels;
        std::function<labelled_values()> read;
        bool counter = false;
    };
    using family = std::variant<std::unique_ptr<metric_family<counter>>, std::unique_ptr<metric_family<gauge>>,
                                std::unique_ptr<metric_family<histogram>>, std::function<double()>, collector>;
    struct entry {
        std::string name;
        std::string help;
        family metrics;
    };
    void check_new(std::string const& name, std::vector<std::string> const& labels) const;

    std::vector<entry> entries_;
};

}  // namespace kp::metrics
