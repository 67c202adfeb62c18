#include "bench/loadgen/run_report.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

namespace kp::loadgen {

namespace {

using nlohmann::json;

std::string num(json const& j, char const* key) {
    if (!j.is_object() || !j.contains(key)) return "-";
    auto const& v = j.at(key);
    if (!v.is_number_float()) return v.dump();
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", v.get<double>());
    std::string s = text;
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
}

void measured(std::ostringstream& out, json const& m, char const* per) {
    if (!m.is_object()) return;
    out << "  server CPU      " << num(m, "server_cpu_seconds") << " s in " << num(m, "window_seconds") << " s ("
        << num(m, "server_cpu_percent") << "% of a core; " << num(m, "server_user_cpu_seconds") << " s in user space)";
    if (per) {
        out << ", " << num(m, (std::string("server_cpu_us_per_") + per).c_str()) << " us per " << per << ", "
            << num(m, (std::string(per) + "s_per_server_cpu_second").c_str()) << " per server CPU-second ("
            << num(m, (std::string("server_user_cpu_us_per_") + per).c_str()) << " us in user space)";
    }
    out << "\n  client CPU      " << num(m, "client_cpu_seconds") << " s; machine busy "
        << num(m, "machine_busy_fraction") << " of both cores\n";
}

void delivery(std::ostringstream& out, json const& r) {
    if (!r.contains("delivery")) return;
    auto const& p = r["publish"];
    auto const& d = r["delivery"];
    auto const& l = d["latency"];
    out << "publish           " << num(p, "accepted") << " accepted of " << num(p, "requested") << " ("
        << num(p, "failed") << " failed), " << num(p, "rate_achieved") << " events/s (target " << num(p, "rate_target")
        << "), POST p50/p99 " << num(p, "round_trip_p50_ms") << "/" << num(p, "round_trip_p99_ms") << " ms"
        << (p.value("cut_short", false) ? ", CUT SHORT by the time bound" : "") << "\n";
    out << "deliveries        " << num(d, "deliveries") << " of " << num(d, "expected") << " expected, "
        << num(d, "per_second") << "/s\n";
    out << "latency ms        p50 " << num(l, "p50_ms") << "  p90 " << num(l, "p90_ms") << "  p99 " << num(l, "p99_ms")
        << "  p99.9 " << num(l, "p999_ms") << "  max " << num(l, "max_ms") << "\n";
    out << "lost              " << num(d, "lost") << " (holes " << num(d, "lost_gaps") << ", tail " << num(d, "lost_tail")
        << "; " << num(d, "subscribers_with_loss") << " subscribers, worst " << num(d, "worst_subscriber_lost")
        << "), duplicated " << num(d, "duplicated") << ", reordered " << num(d, "reordered") << ", dropped connections "
        << num(d, "dropped_connections") << "\n";
    if (d.contains("wire")) {
        auto const& w = d["wire"];
        out << "wire              " << num(w, "bytes_received") << " bytes received by the subscribers, "
            << num(w, "bytes_per_delivery") << " per delivery (" << num(w, "segments_per_delivery")
            << " TCP segments)\n";
    }
    measured(out, r["measured"], "delivery");
}

}  // namespace

std::string run_report::text(json const& r) {
    std::ostringstream out;
    std::string urls;
    if (auto it = r.find("urls"); it != r.end() && it->is_array())
        for (auto const& url : *it) {
            if (!urls.empty()) urls += ',';
            urls += url.get_ref<std::string const&>();
        }
    out << "kp-loadgen " << r.value("mode", "") << " against " << r.value("target", "") << " at " << urls << ": "
        << num(r, "subscribers") << " subscribers on " << num(r, "channels") << " channels, " << num(r, "threads")
        << " threads, transport " << r.value("transport", "ws") << ", payload " << r.value("payload", "bench") << "\n";
    auto const& c = r["connections"];
    out << "connections       " << num(c, "established") << " of " << num(c, "attempted") << " (" << num(c, "failed")
        << " failed), " << num(c, "setup_per_second") << " conn/s, set-up p50/p99 " << num(c, "setup_p50_ms") << "/"
        << num(c, "setup_p99_ms") << " ms"
        << (r.value("transport", "") == "ws-deflate" ? ", permessage-deflate accepted on " + num(c, "deflate_negotiated")
                                                     : std::string())
        << "\n";
    auto const& m = r["server_memory"];
    out << "server memory     PSS " << num(m, "pss_kib_before") << " -> " << num(m, "pss_kib_connected") << " KiB ("
        << num(m, "pss_kib_per_connection") << " KiB per connection), peak RSS " << num(m, "hwm_kib") << " KiB, "
        << num(m, "processes") << " processes\n";
    if (r.contains("idle")) {
        auto const& i = r["idle"];
        out << "idle              " << num(i, "still_open") << " still open after the hold, "
            << num(i, "dropped_connections") << " dropped\n";
        measured(out, i, nullptr);
    }
    if (r.contains("saturation")) {
        auto const& s = r["saturation"];
        out << "saturation        best rate with no loss and p99 <= " << num(s, "max_lag_ms")
            << " ms: " << num(s, "best_rate") << " events/s\n";
        for (auto const& step : s["steps"])
            out << "  step " << num(step, "step") << ": " << num(step, "rate_target") << " events/s -> "
                << (step.value("pass", false) ? "pass" : "fail") << " (achieved "
                << num(step["publish"], "rate_achieved") << "/s, lost " << num(step["delivery"], "lost") << ", p99 "
                << num(step["delivery"]["latency"], "p99_ms") << " ms)\n";
    }
    delivery(out, r);
    if (r.contains("resume")) {
        auto const& rs = r["resume"];
        auto const& p = rs["replay"];
        out << "resume            " << num(p, "complete") << " of " << num(p, "clients") << " clients replayed "
            << num(p, "events_per_client") << " events each (" << num(p, "exact") << " exactly); gaps " << num(p, "gaps")
            << ", duplicated " << num(p, "duplicated") << ", not recovered " << num(p, "not_recovered")
            << (p.value("contiguous", false) ? ": CONTIGUOUS" : ": NOT CONTIGUOUS") << "\n";
        out << "replay            " << num(p, "replayed") << " events in " << num(p, "seconds") << " s ("
            << num(p, "replayed_per_second") << "/s), per client p50/p99/max " << num(p, "client_resume_p50_ms") << "/"
            << num(p, "client_resume_p99_ms") << "/" << num(p, "client_resume_max_ms") << " ms\n";
        measured(out, rs["measured"], "replayed_event");
    }
    if (r.value("cut_by_max_seconds", false)) out << "the run was CUT by --max-seconds\n";
    return out.str();
}

}  // namespace kp::loadgen
