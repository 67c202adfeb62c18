#include "bench/loadgen/options_parser.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

namespace kp::loadgen {

namespace {

std::optional<double> number(std::string const& text) {
    double v = 0;
    auto const* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::vector<std::string> split(std::string const& text) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ','))
        if (!part.empty()) parts.push_back(part);
    return parts;
}

}  // namespace

std::variant<loadgen_options, usage_error, help_request> options_parser::parse(std::vector<std::string> const& args) {
    loadgen_options o;
    bool have_url = false;

    // whole numbers and decimals, each with its range
    auto whole = [](auto& slot, double lo, double hi) {
        return [&slot, lo, hi](std::string const& name, std::string const& v) -> std::optional<usage_error> {
            auto n = number(v);
            if (!n || *n != std::floor(*n) || *n < lo || *n > hi)
                return usage_error{"--" + name + " " + v + ": must be a whole number from " + std::to_string(std::llround(lo)) +
                                   " to " + std::to_string(std::llround(hi))};
            slot = static_cast<std::remove_reference_t<decltype(slot)>>(*n);
            return std::nullopt;
        };
    };
    auto decimal = [](double& slot, double lo, double hi) {
        return [&slot, lo, hi](std::string const& name, std::string const& v) -> std::optional<usage_error> {
            auto n = number(v);
            if (!n || *n < lo || *n > hi) {
                std::ostringstream m;
                m << "--" << name << " " << v << ": must be a number from " << lo << " to " << hi;
                return usage_error{m.str()};
            }
            slot = *n;
            return std::nullopt;
        };
    };
    using setter = std::function<std::optional<usage_error>(std::string const&, std::string const&)>;
    std::map<std::string, setter> const setters{
        {"channels", whole(o.channels, 1, 100'000)},
        {"subscribers", whole(o.subscribers, 0, 1'000'000)},
        {"rate", decimal(o.rate, 0, 10'000'000)},
        {"events", whole(o.events, 0, 100'000'000)},
        {"max-seconds", decimal(o.max_seconds, 1, 7200)},
        {"payload-bytes", whole(o.payload_bytes, 16, 1'048'576)},
        {"threads", whole(o.threads, 1, 64)},
        {"publishers", whole(o.publishers, 1, 1024)},
        {"handshakes-in-flight", whole(o.handshakes_in_flight, 1, 100'000)},
        {"idle-hold-seconds", decimal(o.idle_hold_seconds, 0, 3600)},
        {"drain-seconds", decimal(o.drain_seconds, 0, 600)},
        {"settle-seconds", decimal(o.settle_seconds, 0, 600)},
        {"step-seconds", decimal(o.step_seconds, 0.5, 600)},
        {"max-lag-ms", decimal(o.max_lag_ms, 1, 600'000)},
        {"max-steps", whole(o.max_steps, 1, 100)},
        {"deflate",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             if (v != "on" && v != "off") return usage_error{"--deflate " + v + ": must be on or off"};
             o.deflate = v == "on";
             return std::nullopt;
         }},
        {"target",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             if (v == "kinto-push") o.target = target_kind::kinto_push;
             else if (v == "nchan") o.target = target_kind::nchan;
             else return usage_error{"--target " + v + ": must be kinto-push or nchan"};
             return std::nullopt;
         }},
        {"transport",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             if (v == "ws") o.transport = transport_kind::ws;
             else if (v == "ws-deflate") o.transport = transport_kind::ws_deflate;
             else if (v == "sse") o.transport = transport_kind::sse;
             else return usage_error{"--transport " + v + ": must be ws, ws-deflate or sse"};
             return std::nullopt;
         }},
        {"payload",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             if (v == "bench") o.payload = payload_kind::bench;
             else if (v == "typical") o.payload = payload_kind::typical;
             else if (v == "large") o.payload = payload_kind::large;
             else return usage_error{"--payload " + v + ": must be bench, typical or large"};
             return std::nullopt;
         }},
        {"mode",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             if (v == "live") o.mode = run_mode::live;
             else if (v == "idle") o.mode = run_mode::idle;
             else if (v == "resume") o.mode = run_mode::resume;
             else if (v == "saturate") o.mode = run_mode::saturate;
             else return usage_error{"--mode " + v + ": must be live, idle, resume or saturate"};
             return std::nullopt;
         }},
        {"url",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             o.urls.clear();
             for (auto const& one : split(v)) {
                 auto parsed = http_base_url::parse(one);
                 if (auto const* why = std::get_if<std::string>(&parsed))
                     return usage_error{"--url " + one + ": " + *why};
                 o.urls.push_back(std::get<http_base_url>(parsed));
             }
             have_url = !o.urls.empty();
             return std::nullopt;
         }},
        {"source-addrs",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             auto parts = split(v);
             if (parts.empty()) return usage_error{"--source-addrs needs at least one address"};
             for (auto const& a : parts) {
                 boost::system::error_code ec;
                 auto const address = boost::asio::ip::make_address_v4(a, ec);
                 if (ec || !address.is_loopback())
                     return usage_error{"--source-addrs " + a + ": must be a loopback IPv4 address (127.x.x.x)"};
             }
             o.source_addrs = std::move(parts);
             return std::nullopt;
         }},
        {"server-pid",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             for (auto const& p : split(v)) {
                 auto n = number(p);
                 if (!n || *n != std::floor(*n) || *n < 1 || *n > 4'194'304)
                     return usage_error{"--server-pid " + p + ": must be a process id"};
                 o.server_pids.push_back(static_cast<int>(*n));
             }
             return std::nullopt;
         }},
        {"secret",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             if (v.empty() || std::any_of(v.begin(), v.end(), [](unsigned char c) { return c < 0x21 || c == 0x7f; }))
                 return usage_error{"--secret must be non-empty, without spaces or control characters"};
             o.secret = v;
             return std::nullopt;
         }},
        {"json",
         [&](std::string const&, std::string const& v) -> std::optional<usage_error> {
             if (v.empty()) return usage_error{"--json needs a file name (- for stdout)"};
             o.json_out = v;
             return std::nullopt;
         }},
    };

    if (std::any_of(args.begin(), args.end(), [](std::string const& a) { return a == "--help" || a == "-h"; }))
        return help_request{};
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string const& arg = args[i];
        if (!arg.starts_with("--") || arg == "--")
            return usage_error{"unexpected argument '" + arg + "' (options start with --; try --help)"};
        std::string name = arg.substr(2);
        std::optional<std::string> value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        auto const it = setters.find(name);
        if (it == setters.end()) return usage_error{"unknown option --" + name + " (try --help)"};
        if (!value) {
            if (i + 1 >= args.size()) return usage_error{"option --" + name + " needs a value"};
            value = args[++i];
        }
        if (auto error = it->second(name, *value)) return *error;
    }

    if (o.deflate && o.transport == transport_kind::sse)
        return usage_error{"--deflate on is for WebSocket subscribers, not --transport sse"};
    if (o.deflate) o.transport = transport_kind::ws_deflate;
    if (!have_url) return usage_error{"--url is required (e.g. --url http://127.0.0.1:8080)"};
    if (o.threads % o.urls.size() != 0)
        return usage_error{"--threads must be a multiple of the number of --url nodes (each node gets whole threads)"};
    if (o.mode == run_mode::resume && o.target == target_kind::nchan)
        return usage_error{"--mode resume is for kinto-push only (nchan has no exact resume)"};
    if (o.channels > std::max<std::uint32_t>(o.subscribers, 1) && o.mode != run_mode::idle)
        return usage_error{"--channels must not exceed --subscribers (every channel needs a subscriber)"};
    if (o.mode == run_mode::saturate && o.rate <= 0) return usage_error{"--mode saturate needs a starting --rate above 0"};
    if (o.mode == run_mode::live && o.rate <= 0 && o.events > 0)
        return usage_error{"--rate must be above 0 in live mode"};
    // the per-subscriber record of received sequence numbers: one bit per event of its channel
    double const per_channel = std::ceil(static_cast<double>(o.events) / o.channels);
    if (o.mode != run_mode::resume && per_channel * o.subscribers / 8 > 2.0 * (1u << 30))
        return usage_error{"--events / --channels x --subscribers is too large (over 2 GiB of tracking bits)"};
    return o;
}

std::string options_parser::usage() {
    return R"(kp-loadgen: WebSocket and SSE load generator for kinto-push and nchan (loopback only, bounded in time)

Usage: kp-loadgen --url http://127.0.0.1:PORT [OPTIONS]

Subscriber i listens to channel c(i mod C) (c000, c001, ...). kinto-push: ws://HOST/v1/ws and one
subscribe frame for /buckets/bench/collections/cNNN; nchan: ws://HOST/sub/cNNN, subprotocol
ws+meta.nchan. Events are published round-robin over the channels (kinto-push: POST /v1/events,
a Kinto record event; nchan: POST /pub/cNNN), each carrying its channel, a per-channel sequence
number and its sending time (steady clock). --transport sse: kinto-push GET /v1/sse?channel=<path>,
nchan GET /sub/cNNN with Accept: text/event-stream (its EventSource subscriber).

Options:
  --target kinto-push|nchan     server protocol (default kinto-push)
  --transport ws|ws-deflate|sse subscribers' transport (default ws): WebSocket; WebSocket offering
                                permessage-deflate (client_no_context_takeover; server_no_context_takeover);
                                Server-Sent Events
  --url URL[,URL...]            server base URL, http:// or ws:// with a 127.x.x.x address (required);
                                several: the nodes of one cluster (subscriber thread t connects to
                                URL t mod N, publisher connection p posts to URL p mod N)
  --mode live|idle|resume|saturate
                                live (default): publish --events at --rate, then drain;
                                idle: connect, hold --idle-hold-seconds, measure memory and idle CPU;
                                resume (kinto-push): subscribe, leave, --events per channel are
                                published, come back with `since` and check the replay;
                                saturate: steps from --rate, doubling then bisecting, to the highest
                                rate with no loss and p99 <= --max-lag-ms
  --channels C                  channels (default 1)
  --subscribers N               WebSocket connections, spread evenly over the channels (default 100)
  --rate R                      events/s over all channels (default 100; resume: 0 = as fast as possible)
  --events M                    events to publish (live: in all; resume: per channel) (default 1000)
  --max-seconds S               hard bound of the whole run; the tool stops by itself (default 60)
  --payload-bytes B             size of the bench payload (default 128)
  --payload bench|typical|large what each event carries (default bench: the numbers padded to
                                --payload-bytes); typical: a Kinto record of a handful of fields;
                                large: a record of about 32 KiB of prose and line items. With
                                typical and large, nchan is sent kinto-push's whole record event
  --threads T                   subscriber threads, one io_context each (default 1)
  --publishers P                keep-alive HTTP publisher connections, one request in flight each (default 4)
  --handshakes-in-flight H      connection attempts in flight over all threads (default 200)
  --source-addrs A,B,...        loopback source addresses to bind, round-robin (default 127.0.0.1);
                                each gives ~28k ports per server port
  --server-pid PID[,PID]        server processes to measure (repeatable; nchan: master and worker)
  --secret S                    kinto-push publish secret (Authorization: Bearer)
  --idle-hold-seconds S         idle mode: hold time (default 5)
  --settle-seconds S            pause after connecting, before the memory sample (default 1)
  --drain-seconds S             at most this long after the last publish answer (default 10);
                                ends after 2 s without a delivery
  --step-seconds S              saturate: publishing time per step (default 4)
  --max-lag-ms MS               saturate: p99 latency bound of a passing step (default 500)
  --max-steps N                 saturate: at most N steps (default 10)
  --json FILE                   also write the report as JSON (- for stdout)
  --deflate on|off              on: the same as --transport ws-deflate (default off)

Exit status: 0 done, 1 the run ended early (--max-seconds) or no connection was established,
2 bad command line.
)";
}

}  // namespace kp::loadgen
