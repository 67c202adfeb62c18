#include "server/config/option_table.hpp"

#include "auth/origin_list.hpp"
#include "auth/public_channels.hpp"
#include "push/broadcast_registry.hpp"
#include "store/store_factory.hpp"
#include "text/unsigned_number.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <variant>

namespace kp::server {

namespace {

template <class T>
option_spec::setter unsigned_in(T server_config::*field, std::uint64_t low, std::uint64_t high) {
    return [=](server_config& c, std::string const& text) -> std::optional<std::string> {
        auto value = text::parse_unsigned(text);
        if (!value || *value < low || *value > high)
            return "must be a whole number from " + std::to_string(low) + " to " + std::to_string(high);
        c.*field = static_cast<T>(*value);
        return std::nullopt;
    };
}

// HOST:PORT ([v6]:PORT) into its parts, or why not.
std::optional<std::string> parse_host_port(std::string const& text, std::string& host, std::uint16_t& port) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return "must be HOST:PORT";
    std::string name = text.substr(0, colon);
    if (name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    auto number = text::parse_unsigned(std::string_view(text).substr(colon + 1));
    if (!number || *number > 65535) return "port must be a number from 0 to 65535";
    if (name.empty()) return "must be HOST:PORT";
    host = name;
    port = static_cast<std::uint16_t>(*number);
    return std::nullopt;
}

std::optional<std::string> set_listen(server_config& c, std::string const& text) {
    return parse_host_port(text, c.listen_host, c.listen_port);
}

std::optional<std::string> set_metrics_listen(server_config& c, std::string const& text) {
    std::string host;
    std::uint16_t port = 0;
    if (auto why = parse_host_port(text, host, port)) return why;
    c.metrics_host = host;
    c.metrics_port = port;
    return std::nullopt;
}

std::optional<std::string> set_store(server_config& c, std::string const& text) {
    if (auto why = store::store_factory::refusal(text)) return *why;
    c.store = text;
    return std::nullopt;
}

std::optional<std::string> set_durability(server_config& c, std::string const& text) {
    if (text != "full" && text != "normal") return "must be full or normal";
    c.durability = text;
    return std::nullopt;
}

// A non-empty string option (a file name, a secret).
std::optional<std::string> set_nonempty(std::optional<std::string>& field, std::string const& text) {
    if (text.empty()) return "must not be empty";
    field = text;
    return std::nullopt;
}

// A secret: not empty, and not the mask --print-config writes in its place (its output fed back
// unedited would otherwise make "********" the secret).
std::optional<std::string> set_secret_value(std::optional<std::string>& field, std::string const& text) {
    if (text == option_table::mask)
        return std::string("is the mask --print-config shows (") + option_table::mask +
               "), not a secret: give the real one";
    return set_nonempty(field, text);
}

// --jwt-secret: one secret, or several, one a line (the flag repeated, a --config list, joined
// by config_loader); each is a secret as set_secret_value wants it.
std::optional<std::string> set_jwt_secrets(server_config& c, std::string const& text) {
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = std::min(text.find('\n', start), text.size());
        std::optional<std::string> one;
        if (auto why = set_secret_value(one, text.substr(start, end - start))) return why;
        start = end + 1;
    }
    c.jwt_secret = text;
    return std::nullopt;
}

// The -file option of a secret: the file's path; config_loader reads it once every source is in.
option_spec::setter secret_file_in(std::optional<std::string> server_config::*field) {
    return [=](server_config& c, std::string const& text) { return set_nonempty(c.*field, text); };
}

std::optional<std::string> set_compression(server_config& c, std::string const& text) {
    if (text != "on" && text != "off") return "must be on or off";
    c.compression = text == "on";
    return std::nullopt;
}

// A switch: true, false (also on/off, 1/0, yes/no, as the environment and --config write them).
option_spec::setter switch_of(bool server_config::*field) {
    return [=](server_config& c, std::string const& text) -> std::optional<std::string> {
        if (text == "true" || text == "on" || text == "1" || text == "yes") c.*field = true;
        else if (text == "false" || text == "off" || text == "0" || text == "no") c.*field = false;
        else return "must be true or false";
        return std::nullopt;
    };
}

std::optional<std::string> set_log_level(server_config& c, std::string const& text) {
    static constexpr char const* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find_if(std::begin(levels), std::end(levels), [&](char const* l) { return text == l; }) ==
        std::end(levels))
        return "must be one of trace, debug, info, warn, error, critical, off";
    c.log_level = text;
    return std::nullopt;
}

std::optional<std::string> set_log_format(server_config& c, std::string const& text) {
    if (text != "text" && text != "mozlog") return "must be text or mozlog";
    c.log_format = text;
    return std::nullopt;
}

// --broadcast ID=CHANNEL, repeatable; each value may also list several, comma-separated (as
// KINTO_PUSH_BROADCAST does). A source replaces what a weaker one gave.
std::optional<std::string> set_broadcasts(server_config& c, std::string const& text) {
    std::vector<push::broadcast_spec> specs;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string const item = text.substr(start, comma - start);
        start = comma + 1;
        if (item.empty()) continue;
        auto parsed = push::broadcast_spec::parse(item);
        if (auto* why = std::get_if<std::string>(&parsed)) return "'" + item + "': " + *why;
        auto& spec = std::get<push::broadcast_spec>(parsed);
        if (std::any_of(specs.begin(), specs.end(), [&](auto const& s) { return s.id == spec.id; }))
            return "broadcast id '" + spec.id + "' is given twice";
        specs.push_back(std::move(spec));
    }
    if (specs.empty()) return "must be ID=CHANNEL, e.g. remote-settings/monitor_changes=/buckets/main";
    if (specs.size() > push::broadcast_registry::max_broadcasts)
        return "at most " + std::to_string(push::broadcast_registry::max_broadcasts) + " broadcasts";
    c.broadcasts = std::move(specs);
    return std::nullopt;
}

// --cors-origins, --allowed-origins: `*` or origins (auth/origin_list), normalized.
option_spec::setter origins_in(std::optional<auth::origin_list> server_config::*field) {
    return [=](server_config& c, std::string const& text) -> std::optional<std::string> {
        auto parsed = auth::origin_list::parse(text);
        if (auto const* why = std::get_if<std::string>(&parsed)) return *why;
        c.*field = std::get<auth::origin_list>(std::move(parsed));
        return std::nullopt;
    };
}

constexpr std::uint64_t gib = 1024ull * 1024 * 1024;

}  // namespace

std::vector<option_spec> const& option_table::all() {
    static std::vector<option_spec> const table = {
        {"listen", "HOST:PORT", "127.0.0.1:8080", "address to serve HTTP and WebSocket on (port 0: any free port)",
         set_listen},
        {"shards", "N", "number of cores", "event-loop threads",
         unsigned_in(&server_config::shards, 1, 256)},
        {"store", "URL", "sqlite:./data/kinto-push.sqlite3",
         "history store: sqlite:PATH (durable, the directory is created), memory (lost on restart), or "
         "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (shared by several nodes; rediss:// for TLS)",
         set_store},
        {"durability", "MODE", "full",
         "sqlite: full = fsync every commit (nothing acknowledged is lost on power loss); normal = fsync at "
         "checkpoints (a crash of the process loses nothing, a power loss may lose the last commits)",
         set_durability},
        {"history-size", "N", "1000", "events kept per channel",
         unsigned_in(&server_config::history_size, 1, 10'000'000)},
        {"history-ttl", "SECONDS", "86400", "age after which events leave the history",
         unsigned_in(&server_config::history_ttl_s, 1, 10ull * 365 * 86400)},
        {"history-cache", "N", "500", "sqlite, redis: recent events per channel also kept in memory (resumes within them never read the disk or Redis)",
         unsigned_in(&server_config::history_cache, 1, 1'000'000)},
        {"redis-password", "S", "none", "redis: password (AUTH), instead of one in the --store URL",
         [](server_config& c, std::string const& v) { return set_secret_value(c.redis_password, v); }},
        {"redis-tls-ca", "FILE", "system CAs", "rediss: PEM file of the CA certificates that sign Redis's certificate",
         [](server_config& c, std::string const& v) { return set_nonempty(c.redis_tls_ca, v); }},
        {"publish-secret", "S", "none", "bearer secret for publishers (none: loopback publishers only)",
         [](server_config& c, std::string const& v) { return set_secret_value(c.publish_secret, v); }},
        {"publish-secret-file", "FILE", "none",
         "file holding --publish-secret (a trailing newline is dropped); unlike the flag, not shown by ps",
         secret_file_in(&server_config::publish_secret_file)},
        {"max-body-bytes", "N", "4194304", "largest POST body",
         unsigned_in(&server_config::max_body_bytes, 1024, gib)},
        {"max-frame-bytes", "N", "65536", "largest client WebSocket message",
         unsigned_in(&server_config::max_frame_bytes, 256, 16 * 1024 * 1024)},
        {"max-connections", "N", "100000", "open WebSocket connections (more are closed with 4029)",
         unsigned_in(&server_config::max_connections, 1, 10'000'000)},
        {"max-subscriptions", "N", "256", "channels per connection",
         unsigned_in(&server_config::max_subscriptions, 1, 100'000)},
        {"send-queue-bytes", "N", "4194304", "bytes queued to one client before it is closed with 4008",
         unsigned_in(&server_config::send_queue_bytes, 1024, gib)},
        {"max-replay", "N", "10000", "events one resume may replay before recovered:false",
         unsigned_in(&server_config::max_replay, 1, 10'000'000)},
        {"heartbeat", "SECONDS", "25", "server ping interval; silent peers are dropped after two",
         unsigned_in(&server_config::heartbeat_s, 1, 3600)},
        {"request-timeout", "SECONDS", "30",
         "time a client has to send a whole HTTP request, headers and body (and to complete TLS); then it is "
         "disconnected",
         unsigned_in(&server_config::request_timeout_s, 1, 3600)},
        {"socket-send-buffer", "BYTES", "0",
         "kernel send buffer of each connection (SO_SNDBUF); 0 = the kernel's autotuning, which lets a client that "
         "does not read hold up to net.ipv4.tcp_wmem's maximum (4 MiB by default) besides --send-queue-bytes",
         [](server_config& c, std::string const& text) -> std::optional<std::string> {
             auto value = text::parse_unsigned(text);
             if (!value || (*value != 0 && (*value < 4096 || *value > 64 * 1024 * 1024)))
                 return "must be 0 or a whole number from 4096 to 67108864";
             c.socket_send_buffer = static_cast<std::size_t>(*value);
             return std::nullopt;
         }},
        {"compression", "on|off", "on",
         "permessage-deflate (RFC 7692) on /v1/ws and /v1/push when the client offers it: messages of 256 bytes "
         "or more are sent compressed, each on its own (one compressed frame shared by every client)",
         set_compression},
        {"public-channels", "P,...", "none",
         "channel patterns anyone may subscribe to (* = one id; never the firehose /buckets)",
         [](server_config& c, std::string const& v) -> std::optional<std::string> {
             // Checked here, as start-up needs it, so that --print-config refuses what start refuses.
             auto parsed = auth::public_channels::parse(v);
             if (auto const* why = std::get_if<std::string>(&parsed)) return *why;
             c.public_channels = v;
             return std::nullopt;
         }},
        {"jwt-secret", "S", "none",
         "HS256 secret of subscriber JWTs; repeat the flag (or give a list in --config) to accept several during "
         "a rotation",
         set_jwt_secrets},
        {"jwt-secret-file", "FILE", "none",
         "file holding the --jwt-secret values, one a line (blank lines skipped); unlike the flag, not shown by ps",
         secret_file_in(&server_config::jwt_secret_file)},
        {"jwt-public-key", "FILE", "none", "public key (PEM) of subscriber JWTs: RSA for RS256, EC P-256 for ES256",
         [](server_config& c, std::string const& v) { return set_nonempty(c.jwt_public_key, v); }},
        {"jwt-jwks-url", "URL", "none",
         "JWK Set (RFC 7517) of subscriber JWTs' RS256/ES256 keys, named by the tokens' kid; fetched at start, "
         "every --jwt-jwks-refresh and on an unknown kid; its last keys serve while it cannot be fetched",
         [](server_config& c, std::string const& v) -> std::optional<std::string> {
             if (!v.starts_with("http://") && !v.starts_with("https://")) return "must be an http:// or https:// URL";
             c.jwt_jwks_url = v;
             return std::nullopt;
         }},
        {"jwt-jwks-refresh-min", "SECONDS", "30",
         "with --jwt-jwks-url: a token naming an unknown kid fetches the keys again, at most this often",
         unsigned_in(&server_config::jwt_jwks_refresh_min_s, 1, 86400)},
        {"jwt-jwks-refresh", "SECONDS", "300", "with --jwt-jwks-url: the keys are fetched again this often",
         unsigned_in(&server_config::jwt_jwks_refresh_s, 1, 86400)},
        {"jwt-audience", "S", "none", "subscriber JWTs must name it in `aud` (a string, or an array holding it)",
         [](server_config& c, std::string const& v) { return set_nonempty(c.jwt_audience, v); }},
        {"jwt-issuer", "S", "none", "subscriber JWTs must have it as `iss`",
         [](server_config& c, std::string const& v) { return set_nonempty(c.jwt_issuer, v); }},
        {"kinto-url", "URL", "none",
         "Kinto to check subscribers' Kinto credentials against (e.g. https://kinto.example.com/v1)",
         [](server_config& c, std::string const& v) -> std::optional<std::string> {
             if (!v.starts_with("http://") && !v.starts_with("https://")) return "must be an http:// or https:// URL";
             c.kinto_url = v;
             return std::nullopt;
         }},
        {"kinto-recheck", "SECONDS", "60",
         "with --kinto-url: every subscription Kinto allowed is asked about again this often (an allowed answer "
         "is cached no longer); a channel no longer allowed ends with `unsubscribed`, credentials refused close "
         "the connection with 4001",
         unsigned_in(&server_config::kinto_recheck_s, 1, 86400)},
        {"admin-secret", "S", "none",
         "bearer secret of the admin endpoints, /v1/webhooks and /v1/channels (none: loopback callers only, "
         "besides subscriber JWTs whose `webhooks` claim is true)",
         [](server_config& c, std::string const& v) { return set_secret_value(c.admin_secret, v); }},
        {"admin-secret-file", "FILE", "none",
         "file holding --admin-secret (a trailing newline is dropped); unlike the flag, not shown by ps",
         secret_file_in(&server_config::admin_secret_file)},
        {"webhook-allow-private", "", "false",
         "let webhooks target loopback, private, link-local and unspecified addresses (refused otherwise, at "
         "creation and at every connection)",
         switch_of(&server_config::webhook_allow_private)},
        {"webhook-disable-after", "SECONDS", "259200",
         "a webhook whose deliveries fail for this long is disabled (410 Gone disables it at once)",
         unsigned_in(&server_config::webhook_disable_after_s, 1, 365ull * 86400)},
        {"webhook-timeout", "SECONDS", "10",
         "time a webhook target has to accept the connection, read the request and answer; then the attempt "
         "fails and is retried",
         unsigned_in(&server_config::webhook_timeout_s, 1, 300)},
        {"webhook-backoff-initial-ms", "MS", "1000",
         "delay before the first retry of a failed webhook delivery; each retry doubles it, with jitter",
         unsigned_in(&server_config::webhook_backoff_initial_ms, 1, 3'600'000)},
        {"webhook-backoff-max", "SECONDS", "3600", "longest delay between two attempts of a webhook delivery",
         unsigned_in(&server_config::webhook_backoff_max_s, 1, 86400)},
        {"cors-origins", "O,...", "none",
         "origins whose web pages may read /v1/, /v1/history, /v1/sse, /kinto-push.js (and the "
         "/kinto-push-*.js modules it imports), "
         "/v1/webhooks and /v1/channels (CORS fields and OPTIONS preflights): scheme://host[:port],... or * for "
         "any; none: no CORS",
         origins_in(&server_config::cors_origins)},
        {"allowed-origins", "O,...", "any",
         "origins whose pages may open WebSockets (/v1/ws, /v1/push) and SSE streams (/v1/sse): a request "
         "with another Origin gets 403; requests without Origin (not from a browser) always pass",
         origins_in(&server_config::allowed_origins)},
        {"tls-cert", "FILE", "none", "certificate chain (PEM): serve https and wss only; SIGHUP reloads it",
         [](server_config& c, std::string const& v) { return set_nonempty(c.tls_cert, v); }},
        {"tls-key", "FILE", "none", "private key (PEM) of --tls-cert",
         [](server_config& c, std::string const& v) { return set_nonempty(c.tls_key, v); }},
        {"metrics-listen", "HOST:PORT", "none",
         "serve /metrics (and the /__*__ endpoints) on this plain-HTTP address only, not on --listen",
         set_metrics_listen},
        {"broadcast", "ID=CHANNEL", "none",
         "serve the Autopush broadcast protocol on /v1/push (Firefox's dom.push.serverURL): broadcast ID's "
         "version is the quoted timestamp of CHANNEL's latest event; repeatable, or comma-separated",
         set_broadcasts},
        {"broadcast-debounce", "SECONDS", "0",
         "a broadcast changes at most once per interval; the latest version follows when it ends",
         unsigned_in(&server_config::broadcast_debounce_s, 0, 86400)},
        {"log-level", "L", "info", "trace, debug, info, warn, error, critical or off", set_log_level},
        {"log-format", "F", "text", "text (human-readable lines) or mozlog (Mozilla's JSON lines)", set_log_format},
    };
    return table;
}

option_spec const* option_table::find(std::string const& name) {
    for (auto const& o : all())
        if (name == o.name) return &o;
    return nullptr;
}

std::string option_table::env_name(std::string const& option) {
    std::string out = "KINTO_PUSH_";
    for (char c : option) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
    return out;
}

std::string option_table::host_port(std::string const& host, std::uint16_t port) {
    bool const v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace kp::server
