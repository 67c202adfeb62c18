#pragma once
// One run of the load generator, start to end: connect the subscribers (measuring set-up
// rate and time, and the server's memory before and after), then the mode's phase (live:
// one publishing step; idle: hold; resume: away, publish, come back and replay; saturate:
// steps of rising rate, then bisection), then the report as JSON (run_report renders it).
// Every wait is bounded by --max-seconds.

#include "bench/loadgen/client_thread.hpp"
#include "bench/loadgen/loadgen_options.hpp"
#include "bench/loadgen/process_sampler.hpp"
#include "bench/loadgen/publish_scheduler.hpp"
#include "bench/loadgen/target_protocol.hpp"
#include "bench/loadgen/wire_counters.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace kp::loadgen {

class load_run {
public:
    explicit load_run(loadgen_options options);
    ~load_run();

    nlohmann::json execute();

private:
    nlohmann::json connect_all(bool resume);
    nlohmann::json live_step(std::uint32_t index, double rate, std::uint64_t events, double max_seconds);
    nlohmann::json idle_phase();
    nlohmann::json resume_phase();
    nlohmann::json saturate();

    // Sleeps in short slices until `done()` or the deadline; false when the deadline came first.
    bool wait_until(std::function<bool()> const& done, std::uint64_t deadline_ns) const;
    std::uint64_t deadline_in(double seconds) const;
    bool out_of_time() const;
    std::uint64_t sum(std::atomic<std::uint64_t> subscriber_stats::*counter) const;
    // What every open subscriber's socket received so far.
    wire_counters wire_total();
    void for_each_thread(std::function<void(std::vector<std::shared_ptr<subscriber_connection>>&,
                                            subscriber_stats&)> const& f);

    loadgen_options options_;
    std::unique_ptr<target_protocol> protocol_;
    process_sampler server_;
    std::vector<std::unique_ptr<client_thread>> threads_;
    std::unique_ptr<publish_scheduler> publisher_;
    std::vector<std::uint64_t> established_per_channel_;
    std::uint64_t established_ = 0;
    std::uint64_t start_ns_ = 0;
    std::uint64_t deadline_ns_ = 0;
    bool cut_by_deadline_ = false;
};

}  // namespace kp::loadgen
