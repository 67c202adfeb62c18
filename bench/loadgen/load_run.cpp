#include "bench/loadgen/load_run.hpp"

#include "bench/loadgen/kinto_push_protocol.hpp"
#include "bench/loadgen/machine_cpu.hpp"
#include "bench/loadgen/nchan_protocol.hpp"
#include "bench/loadgen/run_figures.hpp"
#include "bench/loadgen/steady_ns.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <thread>

namespace kp::loadgen {

namespace {

using nlohmann::json;
using namespace run_figures;
constexpr double quiet_seconds = 2.0;   // drain ends early when nothing arrived for this long

}  // namespace

load_run::load_run(loadgen_options options)
    : options_(std::move(options)),
      protocol_(options_.target == target_kind::nchan
                    ? std::unique_ptr<target_protocol>(
                          std::make_unique<nchan_protocol>(options_.payload != payload_kind::bench))
                    : std::make_unique<kinto_push_protocol>(options_.secret)),
      server_(options_.server_pids) {
    start_ns_ = steady_ns();
    deadline_ns_ = start_ns_ + static_cast<std::uint64_t>(options_.max_seconds * 1e9);

    std::vector<boost::asio::ip::address_v4> sources;
    for (auto const& s : options_.source_addrs) sources.push_back(boost::asio::ip::make_address_v4(s));
    for (unsigned t = 0; t < options_.threads; ++t)
        threads_.push_back(
            std::make_unique<client_thread>(*protocol_, options_.urls[t % options_.urls.size()], options_.transport));
    // subscriber i: channel i mod C, thread (i div C) mod T (a channel's subscribers spread
    // over every thread, so over every node), source address i mod A
    for (std::uint32_t i = 0; i < options_.subscribers; ++i) {
        std::uint32_t const channel = i % options_.channels;
        threads_[(i / options_.channels) % options_.threads]->add(
            {channel, target_protocol::channel_name(channel), sources[i % sources.size()]});
    }
    publisher_ = std::make_unique<publish_scheduler>(*protocol_, options_.urls, sources, options_.publishers,
                                                     options_.payload_bytes, options_.payload);
    established_per_channel_.assign(options_.channels, 0);
}

load_run::~load_run() = default;

std::uint64_t load_run::deadline_in(double seconds) const {
    return std::min(deadline_ns_, steady_ns() + static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e9));
}

bool load_run::out_of_time() const { return steady_ns() >= deadline_ns_; }

bool load_run::wait_until(std::function<bool()> const& done, std::uint64_t deadline_ns) const {
    while (!done()) {
        if (steady_ns() >= deadline_ns) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

std::uint64_t load_run::sum(std::atomic<std::uint64_t> subscriber_stats::*counter) const {
    std::uint64_t n = 0;
    for (auto const& t : threads_) n += (t->stats().*counter).load(std::memory_order_relaxed);
    return n;
}

wire_counters load_run::wire_total() {
    wire_counters total;
    for_each_thread([&](auto& connections, subscriber_stats&) {
        for (auto& c : connections) total += c->wire();
    });
    return total;
}

void load_run::for_each_thread(
    std::function<void(std::vector<std::shared_ptr<subscriber_connection>>&, subscriber_stats&)> const& f) {
    for (auto& t : threads_) {
        if (!t->run_sync(f)) std::cerr << "kp-loadgen: a client thread did not answer within 30 s\n";
    }
}

json load_run::connect_all(bool resume) {
    for_each_thread([](auto&, subscriber_stats& s) {
        s.setup.clear();
        s.opened = 0;
        s.failed = 0;
        s.first_attempt_ns = std::numeric_limits<std::uint64_t>::max();
        s.last_subscribed_ns = 0;
        s.deflate_negotiated = 0;
    });
    unsigned const per_thread = std::max(1u, options_.handshakes_in_flight / options_.threads);
    for (auto& t : threads_) t->open_all(per_thread, resume);
    std::uint64_t const wanted = options_.subscribers;
    if (!wait_until([&] { return sum(&subscriber_stats::opened) + sum(&subscriber_stats::failed) >= wanted; },
                    deadline_ns_))
        cut_by_deadline_ = true;

    latency_histogram setup;
    std::uint64_t first = std::numeric_limits<std::uint64_t>::max(), last = 0;
    std::fill(established_per_channel_.begin(), established_per_channel_.end(), 0);
    std::uint64_t open = 0, deflated = 0;
    for_each_thread([&](auto& connections, subscriber_stats& s) {
        setup.merge(s.setup);
        deflated += s.deflate_negotiated;
        first = std::min(first, s.first_attempt_ns);
        last = std::max(last, s.last_subscribed_ns);
        for (auto& c : connections) {
            if (!c->is_open()) continue;
            ++open;
            ++established_per_channel_[c->where().channel_index];
        }
    });
    established_ = open;
    double const seconds = last > first ? seconds_between(first, last) : 0.0;
    auto const ms = [](std::uint64_t ns) { return round_to(static_cast<double>(ns) / 1e6, 0.001); };
    return {{"attempted", wanted},
            {"established", open},
            {"failed", sum(&subscriber_stats::failed)},
            {"setup_seconds", round_to(seconds, 0.001)},
            {"setup_per_second", seconds > 0 ? std::round(static_cast<double>(open) / seconds) : 0.0},
            {"setup_p50_ms", ms(setup.percentile(0.5))},
            {"setup_p99_ms", ms(setup.percentile(0.99))},
            {"setup_max_ms", ms(setup.max())},
            {"deflate_negotiated", deflated}};
}

json load_run::live_step(std::uint32_t index, double rate, std::uint64_t events, double max_seconds) {
    std::uint64_t const per_channel = (events + options_.channels - 1) / options_.channels;
    for_each_thread([&](auto& connections, subscriber_stats& s) {
        for (auto& c : connections) c->track(index, per_channel);
        s.latency.clear();
        s.deliveries = 0;
        s.stale_frames = 0;
    });
    std::uint64_t const dropped_before = sum(&subscriber_stats::dropped);
    auto const wire_before = wire_total();
    auto const before = sample_window(server_);
    publisher_->start({index, rate, events, options_.channels, max_seconds});
    if (!wait_until([&] { return publisher_->finished(); }, deadline_ns_)) cut_by_deadline_ = true;
    auto const& pub = publisher_->result();

    std::uint64_t expected = 0;
    if (publisher_->finished())
        for (std::uint32_t ch = 0; ch < options_.channels; ++ch)
            expected += pub.accepted_seqs[ch].size() * established_per_channel_[ch];
    // drain: until every accepted event reached every subscriber of its channel, nothing new
    // came for quiet_seconds, or drain_seconds passed
    std::uint64_t const drain_deadline = deadline_in(options_.drain_seconds);
    std::uint64_t last_count = 0, last_change = steady_ns();
    wait_until(
        [&] {
            auto const n = sum(&subscriber_stats::deliveries);
            auto const now = steady_ns();
            if (n != last_count) {
                last_count = n;
                last_change = now;
            }
            return n >= expected || seconds_between(last_change, now) >= quiet_seconds;
        },
        drain_deadline);
    auto const after = sample_window(server_);
    auto const wire_after = wire_total();

    latency_histogram latency;
    std::uint64_t deliveries = 0, last_delivery = 0, lost_gaps = 0, lost_tail = 0, duplicates = 0, reordered = 0,
                  out_of_range = 0, stale = 0, subscribers_with_loss = 0, subscribers_with_duplicates = 0,
                  worst_loss = 0, tracked = 0;
    for_each_thread([&](auto& connections, subscriber_stats& s) {
        latency.merge(s.latency);
        deliveries += s.deliveries.load();
        last_delivery = std::max(last_delivery, s.last_delivery_ns.load());
        stale += s.stale_frames;
        for (auto& c : connections) {
            auto const& t = c->tracker();
            if (t.distinct() == 0 && !c->is_open()) continue;   // never subscribed
            ++tracked;
            auto const miss = publisher_->finished() ? t.missing_from(pub.accepted_seqs[c->where().channel_index])
                                                     : seq_set::shortfall{};
            lost_gaps += miss.below;
            lost_tail += miss.above;
            duplicates += t.duplicates();
            reordered += t.reordered();
            out_of_range += t.out_of_range();
            if (miss.below + miss.above) ++subscribers_with_loss;
            if (t.duplicates()) ++subscribers_with_duplicates;
            worst_loss = std::max(worst_loss, miss.below + miss.above);
        }
    });
    double const publish_seconds = seconds_between(pub.first_send_ns, pub.last_answer_ns);
    double const delivery_seconds = seconds_between(pub.first_send_ns, last_delivery);
    auto const ms = [](std::uint64_t ns) { return round_to(static_cast<double>(ns) / 1e6, 0.001); };

    json refusals = json::object();
    for (auto const& [status, n] : pub.refusals) refusals[std::to_string(status)] = n;
    json step{{"step", index},
              {"rate_target", rate},
              {"publish",
               {{"rate_target", rate},
                {"requested", events},
                {"issued", pub.issued},
                {"accepted", pub.accepted},
                {"failed", pub.failed},
                {"refusals", refusals},
                {"cut_short", pub.cut_short},
                {"seconds", round_to(publish_seconds, 0.001)},
                {"rate_achieved", publish_seconds > 0 ? round_to(static_cast<double>(pub.accepted) / publish_seconds, 0.1)
                                                      : 0.0},
                {"round_trip_p50_ms", ms(pub.round_trip.percentile(0.5))},
                {"round_trip_p99_ms", ms(pub.round_trip.percentile(0.99))}}},
              {"delivery",
               {{"subscribers", tracked},
                {"expected", expected},
                {"deliveries", deliveries},
                {"per_second", delivery_seconds > 0 ? std::round(static_cast<double>(deliveries) / delivery_seconds) : 0.0},
                {"latency", latency.summary_ms()},
                {"lost", lost_gaps + lost_tail},
                {"lost_gaps", lost_gaps},
                {"lost_tail", lost_tail},
                {"duplicated", duplicates},
                {"reordered", reordered},
                {"out_of_range", out_of_range},
                {"stale", stale},
                {"subscribers_with_loss", subscribers_with_loss},
                {"subscribers_with_duplicates", subscribers_with_duplicates},
                {"worst_subscriber_lost", worst_loss},
                {"dropped_connections", sum(&subscriber_stats::dropped) - dropped_before},
                {"wire", wire_json(wire_before, wire_after, deliveries)}}},
              {"measured", window_json(before, after, deliveries, "delivery")}};
    return step;
}

json load_run::idle_phase() {
    auto const before = sample_window(server_);
    wait_until([] { return false; }, deadline_in(options_.idle_hold_seconds));
    auto const after = sample_window(server_);
    std::uint64_t still_open = 0;
    for_each_thread([&](auto& connections, subscriber_stats&) {
        for (auto& c : connections) still_open += c->is_open() ? 1 : 0;
    });
    json j = window_json(before, after, 0, nullptr);
    j["still_open"] = still_open;
    j["dropped_connections"] = sum(&subscriber_stats::dropped);
    return j;
}

json load_run::resume_phase() {
    json out;
    // 1. every subscriber knows its position (epoch, offset) from `subscribed`; remember it
    std::vector<std::vector<std::uint64_t>> start_offsets(threads_.size());
    std::uint64_t without_position = 0;
    for (std::size_t t = 0; t < threads_.size(); ++t) {
        threads_[t]->run_sync([&, t](auto& connections, subscriber_stats&) {
            for (auto& c : connections) {
                start_offsets[t].push_back(c->position() ? c->position()->offset : 0);
                if (!c->position()) ++without_position;
            }
        });
    }
    // 2. away: every subscriber closes
    for_each_thread([](auto&, subscriber_stats& s) { s.closed = 0; });
    for (auto& t : threads_) t->close_all();
    if (!wait_until([&] { return sum(&subscriber_stats::closed) >= options_.subscribers; }, deadline_in(20)))
        out["close_incomplete"] = true;
    // 3. M events per channel while they are away
    std::uint64_t const events = options_.events * options_.channels;
    auto const pub_before = sample_window(server_);
    publisher_->start({0, options_.rate, events, options_.channels,
                       std::max(1.0, seconds_between(steady_ns(), deadline_ns_) - 5)});
    if (!wait_until([&] { return publisher_->finished(); }, deadline_ns_)) cut_by_deadline_ = true;
    auto const pub_after = sample_window(server_);
    auto const& pub = publisher_->result();
    double const publish_seconds = seconds_between(pub.first_send_ns, pub.last_answer_ns);
    out["publish"] = {{"requested", events},
                      {"accepted", pub.accepted},
                      {"failed", pub.failed},
                      {"seconds", round_to(publish_seconds, 0.001)},
                      {"rate_achieved",
                       publish_seconds > 0 ? round_to(static_cast<double>(pub.accepted) / publish_seconds, 0.1) : 0.0},
                      {"measured", window_json(pub_before, pub_after, pub.accepted, "event")}};

    // 4. back: reconnect from the remembered positions, wait for every replay to end
    for_each_thread([](auto&, subscriber_stats& s) {
        s.resume_time.clear();
        s.replayed = s.replay_gaps = s.replay_duplicates = s.not_recovered = 0;
        s.resumed = 0;
    });
    auto const before = sample_window(server_);
    auto const reconnect = connect_all(true);
    if (!wait_until(
            [&] { return sum(&subscriber_stats::resumed) + sum(&subscriber_stats::failed) >= options_.subscribers; },
            deadline_ns_))
        cut_by_deadline_ = true;
    auto const after = sample_window(server_);

    latency_histogram resume_time;
    std::uint64_t replayed = 0, gaps = 0, duplicates = 0, not_recovered = 0, complete = 0, exact = 0;
    for (std::size_t t = 0; t < threads_.size(); ++t) {
        threads_[t]->run_sync([&, t](auto& connections, subscriber_stats& s) {
            resume_time.merge(s.resume_time);
            replayed += s.replayed;
            gaps += s.replay_gaps;
            duplicates += s.replay_duplicates;
            not_recovered += s.not_recovered;
            for (std::size_t i = 0; i < connections.size(); ++i) {
                auto& c = connections[i];
                if (!c->replay_complete()) continue;
                ++complete;
                // the replay covered exactly the events accepted for its channel while away
                std::uint64_t const want = publisher_->finished()
                                               ? pub.accepted_seqs[c->where().channel_index].size()
                                               : 0;
                if (c->position() && c->position()->offset - start_offsets[t][i] == want) ++exact;
            }
        });
    }
    auto const ms = [](std::uint64_t ns) { return round_to(static_cast<double>(ns) / 1e6, 0.001); };
    double const seconds = seconds_between(before.at_ns, after.at_ns);
    out["reconnect"] = reconnect;
    out["replay"] = {{"clients", options_.subscribers},
                     {"clients_without_position", without_position},
                     {"events_per_client", options_.events},
                     {"complete", complete},
                     {"exact", exact},
                     {"replayed", replayed},
                     {"gaps", gaps},
                     {"duplicated", duplicates},
                     {"not_recovered", not_recovered},
                     {"contiguous", gaps == 0 && duplicates == 0 && not_recovered == 0 && complete == options_.subscribers &&
                                        exact == options_.subscribers},
                     {"seconds", round_to(seconds, 0.001)},
                     {"replayed_per_second", seconds > 0 ? std::round(static_cast<double>(replayed) / seconds) : 0.0},
                     {"client_resume_p50_ms", ms(resume_time.percentile(0.5))},
                     {"client_resume_p99_ms", ms(resume_time.percentile(0.99))},
                     {"client_resume_max_ms", ms(resume_time.max())}};
    out["measured"] = window_json(before, after, replayed, "replayed_event");
    return out;
}

json load_run::saturate() {
    json steps = json::array();
    double rate = options_.rate;
    double good = 0, bad = std::numeric_limits<double>::infinity();
    json best;
    for (unsigned i = 0; i < options_.max_steps && !out_of_time(); ++i) {
        auto const events = static_cast<std::uint64_t>(std::ceil(rate * options_.step_seconds));
        auto step = live_step(i + 1, rate, events, options_.step_seconds * 2 + 2);
        auto const& d = step["delivery"];
        auto const& p = step["publish"];
        bool const pass = p["accepted"].get<std::uint64_t>() == events && d["lost"].get<std::uint64_t>() == 0 &&
                          d["duplicated"].get<std::uint64_t>() == 0 &&
                          d["dropped_connections"].get<std::uint64_t>() == 0 &&
                          d["latency"]["p99_ms"].get<double>() <= options_.max_lag_ms &&
                          p["rate_achieved"].get<double>() >= 0.9 * rate;
        step["pass"] = pass;
        std::cerr << "kp-loadgen: saturation step " << i + 1 << ": " << rate << " events/s: "
                  << (pass ? "pass" : "fail") << " (lost " << d["lost"] << ", p99 " << d["latency"]["p99_ms"]
                  << " ms, achieved " << p["rate_achieved"] << "/s)\n";
        if (pass) {
            good = rate;
            best = step;
        } else {
            bad = rate;
        }
        steps.push_back(std::move(step));
        if (std::isinf(bad)) {
            rate *= 2;
        } else if (good == 0) {
            rate /= 2;
        } else {
            if (bad / good < 1.1) break;
            rate = std::round((good + bad) / 2 * 10) / 10;
        }
        if (rate < 1) break;
    }
    return {{"best_rate", good}, {"best_step", best}, {"steps", steps}, {"max_lag_ms", options_.max_lag_ms}};
}

json load_run::execute() {
    json report{{"tool", "kp-loadgen"},
                {"target", protocol_->name()},
                {"mode", options_.mode == run_mode::live       ? "live"
                         : options_.mode == run_mode::idle     ? "idle"
                         : options_.mode == run_mode::resume   ? "resume"
                                                               : "saturate"},
                {"urls", urls_of(options_.urls)},
                {"subscribers", options_.subscribers},
                {"channels", options_.channels},
                {"transport", options_.transport == transport_kind::sse          ? "sse"
                              : options_.transport == transport_kind::ws_deflate ? "ws-deflate"
                                                                                 : "ws"},
                {"payload", options_.payload == payload_kind::typical ? "typical"
                            : options_.payload == payload_kind::large ? "large"
                                                                      : "bench"},
                {"threads", options_.threads},
                {"publishers", options_.publishers},
                {"payload_bytes", options_.payload_bytes},
                {"rate", options_.rate},
                {"events", options_.events},
                {"source_addrs", options_.source_addrs},
                {"server_pids", options_.server_pids}};
    auto const baseline = server_.take();
    report["connections"] = connect_all(false);
    wait_until([] { return false; }, deadline_in(options_.settle_seconds));
    auto const connected = server_.take();
    report["server_memory"] = {
        {"processes", connected.alive},
        {"pss_kib_before", baseline.pss_kib},
        {"pss_kib_connected", connected.pss_kib},
        {"rss_kib_connected", connected.rss_kib},
        {"pss_kib_per_connection",
         established_ ? round_to(static_cast<double>(connected.pss_kib) - static_cast<double>(baseline.pss_kib), 1) /
                            static_cast<double>(established_)
                      : 0.0},
        {"rss_kib_per_connection",
         established_ ? (static_cast<double>(connected.rss_kib) - static_cast<double>(baseline.rss_kib)) /
                            static_cast<double>(established_)
                      : 0.0}};

    switch (options_.mode) {
    case run_mode::live: {
        auto step = live_step(0, options_.rate, options_.events, std::max(1.0, seconds_between(steady_ns(), deadline_ns_) - options_.drain_seconds - 2));
        report["publish"] = step["publish"];
        report["delivery"] = step["delivery"];
        report["measured"] = step["measured"];
        break;
    }
    case run_mode::idle:
        report["idle"] = idle_phase();
        break;
    case run_mode::resume:
        report["resume"] = resume_phase();
        break;
    case run_mode::saturate: {
        auto s = saturate();
        if (s["best_step"].is_object()) {
            report["publish"] = s["best_step"]["publish"];
            report["delivery"] = s["best_step"]["delivery"];
            report["measured"] = s["best_step"]["measured"];
        }
        report["saturation"] = std::move(s);
        break;
    }
    }
    auto const end = server_.take();
    report["server_memory"]["hwm_kib"] = end.hwm_kib;
    report["server_memory"]["processes_at_end"] = end.alive;
    report["cut_by_max_seconds"] = cut_by_deadline_;
    report["seconds"] = round_to(seconds_between(start_ns_, steady_ns()), 0.001);
    return report;
}

}  // namespace kp::loadgen
