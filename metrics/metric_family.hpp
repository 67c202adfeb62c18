#pragma once
// The members of one metric that differ by their label values (closes_total{code="4008"}).
// with() creates a member on first use and returns the same one after; callers on a hot path
// keep the reference instead of looking it up each time.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace kp::metrics {

template <class Metric>
class metric_family {
public:
    using factory = std::function<std::unique_ptr<Metric>()>;

    metric_family(std::vector<std::string> label_names, factory make)
        : label_names_(std::move(label_names)), make_(std::move(make)) {}

    // Thread-safe. Throws std::invalid_argument when the number of values is not the number
    // of labels (a programming error).
    Metric& with(std::vector<std::string> const& values) {
        if (values.size() != label_names_.size()) throw std::invalid_argument("wrong number of label values");
        std::lock_guard lock(mutex_);
        auto& member = members_[values];
        if (!member) member = make_();
        return *member;
    }

    std::vector<std::string> const& label_names() const { return label_names_; }

    // Calls f(label values, metric) for every member, in label order.
    void for_each(std::function<void(std::vector<std::string> const&, Metric const&)> const& f) const {
        std::lock_guard lock(mutex_);
        for (auto const& [values, member] : members_) f(values, *member);
    }

private:
    std::vector<std::string> label_names_;
    factory make_;
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>> members_;
};

}  // namespace kp::metrics
