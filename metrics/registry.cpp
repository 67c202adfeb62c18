#include "metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace kp::metrics {

namespace {

bool valid_name(std::string const& name, bool colon_allowed) {
    if (name.empty()) return false;
    auto ok = [&](char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':') ||
               (!first && c >= '0' && c <= '9');
    };
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!ok(name[i], i == 0)) return false;
    return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string escape(std::string const& text, bool quote) {
    std::string out;
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (quote && c == '"') out += "\\\"";
        else out += c;
    }
    return out;
}

std::string number(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, end) : "NaN";
}

// {a="x",b="y"} (with `extra` appended, e.g. le="0.5"), or nothing without labels.
std::string labels(std::vector<std::string> const& names, std::vector<std::string> const& values,
                   std::string const& extra = {}) {
    if (names.empty() && extra.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += ',';
        out += names[i] + "=\"" + escape(values[i], true) + '"';
    }
    if (!extra.empty()) {
        if (!names.empty()) out += ',';
        out += extra;
    }
    return out + "}";
}

}  // namespace

void registry::check_new(std::string const& name, std::vector<std::string> const& label_names) const {
    if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name '" + name + "'");
    for (auto const& l : label_names)
        if (!valid_name(l, false) || l.starts_with("__") || l == "le")
            throw std::invalid_argument("invalid label name '" + l + "' of " + name);
    if (std::any_of(entries_.begin(), entries_.end(), [&](entry const& e) { return e.name == name; }))
        throw std::invalid_argument("metric '" + name + "' registered twice");
}

metric_family<counter>& registry::counter_family(std::string name, std::string help, std::vector<std::string> labels) {
    check_new(name, labels);
    auto f = std::make_unique<metric_family<counter>>(std::move(labels), [] { return std::make_unique<counter>(); });
    auto& ref = *f;
    entries_.push_back({std::move(name), std::move(help), std::move(f)});
    return ref;
}

metric_family<gauge>& registry::gauge_family(std::string name, std::string help, std::vector<std::string> labels) {
    check_new(name, labels);
    auto f = std::make_unique<metric_family<gauge>>(std::move(labels), [] { return std::make_unique<gauge>(); });
    auto& ref = *f;
    entries_.push_back({std::move(name), std::move(help), std::move(f)});
    return ref;
}

metric_family<histogram>& registry::histogram_family(std::string name, std::string help,
                                                     std::vector<std::string> labels, std::vector<double> bounds) {
    check_new(name, labels);
    histogram probe(bounds);   // validates the bounds now, not on the first with()
    auto f = std::make_unique<metric_family<histogram>>(
        std::move(labels), [bounds = std::move(bounds)] { return std::make_unique<histogram>(bounds); });
    auto& ref = *f;
    entries_.push_back({std::move(name), std::move(help), std::move(f)});
    return ref;
}

counter& registry::add_counter(std::string name, std::string help) {
    return counter_family(std::move(name), std::move(help), {}).with({});
}

gauge& registry::add_gauge(std::string name, std::string help) {
    return gauge_family(std::move(name), std::move(help), {}).with({});
}

histogram& registry::add_histogram(std::string name, std::string help, std::vector<double> bounds) {
    return histogram_family(std::move(name), std::move(help), {}, std::move(bounds)).with({});
}

void registry::add_gauge_function(std::string name, std::string help, std::function<double()> read) {
    check_new(name, {});
    entries_.push_back({std::move(name), std::move(help), std::move(read)});
}

void registry::add_gauge_collector(std::string name, std::string help, std::vector<std::string> label_names,
                                   std::function<labelled_values()> read) {
    check_new(name, label_names);
    entries_.push_back({std::move(name), std::move(help), collector{std::move(label_names), std::move(read)}});
}

void registry::add_counter_collector(std::string name, std::string help, std::vector<std::string> label_names,
                                     std::function<labelled_values()> read) {
    check_new(name, label_names);
    entries_.push_back({std::move(name), std::move(help), collector{std::move(label_names), std::move(read), true}});
}

std::string registry::render() const {
    std::string out;
    for (auto const& e : entries_) {
        char const* type = std::visit(
            [](auto const& f) -> char const* {
                using T = std::decay_t<decltype(f)>;
                if constexpr (std::is_same_v<T, std::unique_ptr<metric_family<counter>>>) return "counter";
                else if constexpr (std::is_same_v<T, std::unique_ptr<metric_family<histogram>>>) return "histogram";
                else if constexpr (std::is_same_v<T, collector>) return f.counter ? "counter" : "gauge";
                else return "gauge";
            },
            e.metrics);
        out += "# HELP " + e.name + " " + escape(e.help, false) + "\n";
        out += "# TYPE " + e.name + " " + type + "\n";
        if (auto const* c = std::get_if<std::unique_ptr<metric_family<counter>>>(&e.metrics)) {
            (*c)->for_each([&](auto const& values, counter const& m) {
                out += e.name + labels((*c)->label_names(), values) + " " + std::to_string(m.value()) + "\n";
            });
        } else if (auto const* g = std::get_if<std::unique_ptr<metric_family<gauge>>>(&e.metrics)) {
            (*g)->for_each([&](auto const& values, gauge const& m) {
                out += e.name + labels((*g)->label_names(), values) + " " + std::to_string(m.value()) + "\n";
            });
        } else if (auto const* h = std::get_if<std::unique_ptr<metric_family<histogram>>>(&e.metrics)) {
            auto const& names = (*h)->label_names();
            (*h)->for_each([&](auto const& values, histogram const& m) {
                auto const s = m.collect();
                for (std::size_t i = 0; i < s.bounds.size(); ++i)
                    out += e.name + "_bucket" + labels(names, values, "le=\"" + number(s.bounds[i]) + "\"") + " " +
                           std::to_string(s.cumulative[i]) + "\n";
                out += e.name + "_bucket" + labels(names, values, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
                out += e.name + "_sum" + labels(names, values) + " " + number(s.sum) + "\n";
                out += e.name + "_count" + labels(names, values) + " " + std::to_string(s.count) + "\n";
            });
        } else if (auto const* collected = std::get_if<collector>(&e.metrics)) {
            for (auto const& [values, value] : collected->read()) out += e.name + labels(collected->labels, values) + " " + number(value) + "\n";
        } else {
            out += e.name + " " + number(std::get<std::function<double()>>(e.metrics)()) + "\n";
        }
    }
    return out;
}

}  // namespace kp::metrics
