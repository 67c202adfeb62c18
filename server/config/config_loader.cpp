#include "server/config/config_loader.hpp"

#include "server/config/option_table.hpp"
#include "server/config/secret_file.hpp"
#include "server/config/unknown_variables.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

extern char** environ;

namespace kp::server {

namespace {

// "line L, column C" of the byte at 1-based offset `byte` in `text` (nlohmann's parse_error::byte).
std::string json_error_place(std::string const& text, std::size_t byte) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// The part of nlohmann's message after its "[json.exception.parse_error.101] parse error at
// line 1, column 2: " prefix: what was wrong.
std::string json_error_reason(std::string const& what) {
    auto const colon = what.find(": ");
    return colon == std::string::npos ? what : what.substr(colon + 2);
}

// One of several --jwt-secret values, checked alone (the error shows it, not the others).
std::optional<config_error> one_jwt_secret(std::string const& value, std::string const& source) {
    server_config scratch;
    if (auto why = option_table::find("jwt-secret")->apply(scratch, value))
        return config_error{source + "=" + value + ": " + *why};
    return std::nullopt;
}

}  // namespace

config_loader::environment config_loader::process_environment() {
    environment env;
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string::npos && entry.starts_with("KINTO_PUSH_"))
            env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
    }
    return env;
}

std::variant<command, config_error> config_loader::load(std::vector<std::string> const& args,
                                                        environment const& env) {
    command cmd;
    std::map<std::string, std::string> flags;   // option name -> value
    std::optional<std::string> config_file;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string const& arg = args[i];
        if (i == 0 && arg == "serve") continue;
        if (arg == "--help" || arg == "-h") {
            cmd.what = command::action::help;
            return cmd;
        }
        if (arg == "--version") {
            cmd.what = command::action::version;
            return cmd;
        }
        if (arg == "--print-config") {
            // Reads every other option as usual, then prints the result instead of serving.
            cmd.what = command::action::print_config;
            continue;
        }
        if (!arg.starts_with("--")) {
            if (i == 0) return config_error{"unknown command '" + arg + "' (try --help)"};
            return config_error{"unexpected argument '" + arg + "' (try --help)"};
        }
        std::string name = arg.substr(2);
        std::optional<std::string> value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        auto const* spec = name == "config" ? nullptr : option_table::find(name);
        if (name != "config" && !spec)
            return config_error{"unknown option --" + name + " (try --help)"};
        if (!value && spec && *spec->placeholder == '\0') value = "true";   // a switch
        if (!value) {
            if (i + 1 >= args.size()) return config_error{"option --" + name + " needs a value"};
            value = args[++i];
        }
        if (name == "config") config_file = *value;
        else if (name == "jwt-secret") {
            // Repeatable, one secret a line; each checked alone, so that a refusal shows only it.
            if (auto error = one_jwt_secret(*value, "--jwt-secret")) return *error;
            auto& held = flags[name];
            held += (held.empty() ? "" : "\n") + *value;
        }
        else if (name == "broadcast" && flags.contains(name)) flags[name] += "," + *value;   // repeatable
        else flags[name] = *value;
    }
    if (!config_file) {
        if (auto it = env.find("KINTO_PUSH_CONFIG"); it != env.end()) config_file = it->second;
    }

    server_config& config = cmd.config;
    auto apply = [&](option_spec const& o, std::string const& value,
                     std::string const& source) -> std::optional<config_error> {
        if (auto why = o.apply(config, value)) return config_error{source + "=" + value + ": " + *why};
        return std::nullopt;
    };

    if (config_file) {
        std::ifstream in(*config_file);
        if (!in) return config_error{"--config " + *config_file + ": cannot be read"};
        std::stringstream text;
        text << in.rdbuf();
        nlohmann::json doc;
        try {
            doc = nlohmann::json::parse(text.str());
        } catch (nlohmann::json::parse_error const& e) {
            return config_error{"--config " + *config_file + ": not JSON: " + json_error_place(text.str(), e.byte) +
                                ": " + json_error_reason(e.what())};
        }
        if (!doc.is_object()) return config_error{"--config " + *config_file + ": must be a JSON object"};
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            std::string key = it.key();
            std::replace(key.begin(), key.end(), '_', '-');
            auto const* o = option_table::find(key);
            if (!o) return config_error{"--config " + *config_file + ": unknown option '" + it.key() + "'"};
            if (it->is_null()) continue;   // null: the default (what --print-config shows for unset options)
            // Lists: ID=CHANNEL strings (broadcast), origins (cors-origins, allowed-origins),
            // secrets (jwt-secret, one a line).
            bool const list = it->is_array() && (key == "broadcast" || key == "cors-origins" ||
                                                 key == "allowed-origins" || key == "jwt-secret");
            bool const switch_value = it->is_boolean() && *o->placeholder == '\0';   // a switch takes true/false
            if (!list && !switch_value && !it->is_string() && !it->is_number())
                return config_error{*config_file + ": " + it.key() + "=" + it->dump() + ": must be a string or a number"};
            std::string value = it->is_string() ? it->get<std::string>() : it->dump();
            if (list) {
                value.clear();
                for (auto const& item : *it) {
                    if (!item.is_string())
                        return config_error{*config_file + ": " + it.key() + ": must be a list of " +
                                            (key == "broadcast"    ? "ID=CHANNEL strings"
                                             : key == "jwt-secret" ? "secret strings"
                                                                   : "origin strings")};
                    bool const secrets = key == "jwt-secret";   // secrets may hold commas: one a line
                    if (secrets)
                        if (auto error = one_jwt_secret(item.get<std::string>(), *config_file + ": " + it.key()))
                            return *error;
                    value += (value.empty() ? "" : secrets ? "\n" : ",") + item.get<std::string>();
                }
            }
            if (auto error = apply(*o, value, *config_file + ": " + it.key())) return *error;
        }
    }
    cmd.warnings = unknown_variables::warnings(env);
    for (auto const& o : option_table::all()) {
        if (auto it = env.find(option_table::env_name(o.name)); it != env.end() && !flags.contains(o.name))
            if (auto error = apply(o, it->second, option_table::env_name(o.name))) return *error;
    }
    for (auto const& [name, value] : flags)
        if (auto error = apply(*option_table::find(name), value, "--" + name)) return *error;
    // A secret from a file: not also given plainly (from any source), and read once.
    struct secret_source {
        char const* option;
        std::optional<std::string> server_config::*secret;
        std::optional<std::string> server_config::*file;
    };
    for (auto const& s : {secret_source{"publish-secret", &server_config::publish_secret, &server_config::publish_secret_file},
                          secret_source{"jwt-secret", &server_config::jwt_secret, &server_config::jwt_secret_file},
                          secret_source{"admin-secret", &server_config::admin_secret, &server_config::admin_secret_file}}) {
        if (!(config.*s.file)) continue;
        std::string const option = s.option;
        if (config.*s.secret)
            return config_error{"--" + option + " and --" + option + "-file are exclusive (each also from " +
                                option_table::env_name(option) + ", " + option_table::env_name(option + "-file") +
                                " or --config): give one"};
        auto read = secret_file::read(option + "-file", *(config.*s.file));
        if (auto const* error = std::get_if<secret_file_error>(&read)) return config_error{error->message};
        config.*s.secret = std::get<std::string>(std::move(read));
    }
    if (config.tls_cert.has_value() != config.tls_key.has_value())
        return config_error{"--tls-cert and --tls-key go together"};
    return cmd;
}

std::string config_loader::help() {
    std::ostringstream out;
    out << "kinto-push " KINTO_PUSH_VERSION ": WebSocket push server for Kinto\n\n"
        << "Usage: kinto-push [serve] [OPTIONS]\n\n"
        << "Every option is also read from the environment as KINTO_PUSH_<OPTION> (upper snake case).\n"
        << "A flag beats the environment, which beats --config FILE (JSON), which beats the default.\n\n"
        << "Options:\n";
    auto line = [&](std::string const& flag, std::string const& meaning, std::string const& fallback,
                    std::string const& env) {
        out << "  " << flag << "\n      " << meaning << "\n      default: " << fallback << "; env: " << env
            << "\n";
    };
    line("--config FILE", "JSON object of options, keys as the flags' names", "none", "KINTO_PUSH_CONFIG");
    for (auto const& o : option_table::all())
        line(std::string("--") + o.name + (*o.placeholder ? std::string(" ") + o.placeholder : std::string()), o.meaning, o.fallback, option_table::env_name(o.name));
    out << "  --print-config\n      print the effective configuration as JSON (secrets masked) and exit\n";
    out << "  --help, --version\n";
    out << "\nkinto-push tail --help: the command-line client (prints or runs a command for each event)\n";
    return out.str();
}

std::vector<std::string> config_loader::option_names() {
    std::vector<std::string> out;
    for (auto const& o : option_table::all()) out.emplace_back(o.name);
    return out;
}

nlohmann::ordered_json config_loader::effective(server_config const& c) {
    using json = nlohmann::ordered_json;
    auto optional = [](std::optional<std::string> const& v) { return v ? json(*v) : json(nullptr); };
    auto secret = [](std::optional<std::string> const& v) { return v ? json(mask) : json(nullptr); };
    json out;
    out["listen"] = option_table::host_port(c.listen_host, c.listen_port);
    out["shards"] = c.shards ? c.shards : std::max(1u, std::thread::hardware_concurrency());
    out["store"] = c.store;
    out["durability"] = c.durability;
    out["history-size"] = c.history_size;
    out["history-ttl"] = c.history_ttl_s;
    out["history-cache"] = c.history_cache;
    out["redis-password"] = secret(c.redis_password);
    out["redis-tls-ca"] = optional(c.redis_tls_ca);
    // A secret read from a file shows as its file (fed back, it reads the file again).
    out["publish-secret"] = c.publish_secret_file ? json(nullptr) : secret(c.publish_secret);
    out["publish-secret-file"] = optional(c.publish_secret_file);
    out["max-body-bytes"] = c.max_body_bytes;
    out["max-frame-bytes"] = c.max_frame_bytes;
    out["max-connections"] = c.max_connections;
    out["max-subscriptions"] = c.max_subscriptions;
    out["send-queue-bytes"] = c.send_queue_bytes;
    out["max-replay"] = c.max_replay;
    out["heartbeat"] = c.heartbeat_s;
    out["request-timeout"] = c.request_timeout_s;
    out["socket-send-buffer"] = c.socket_send_buffer;
    out["compression"] = c.compression ? "on" : "off";
    out["public-channels"] = c.public_channels.empty() ? json(nullptr) : json(c.public_channels);
    out["jwt-secret"] = c.jwt_secret_file ? json(nullptr) : secret(c.jwt_secret);
    out["jwt-secret-file"] = optional(c.jwt_secret_file);
    out["jwt-public-key"] = optional(c.jwt_public_key);
    out["jwt-jwks-url"] = optional(c.jwt_jwks_url);
    out["jwt-jwks-refresh-min"] = c.jwt_jwks_refresh_min_s;
    out["jwt-jwks-refresh"] = c.jwt_jwks_refresh_s;
    out["jwt-audience"] = optional(c.jwt_audience);
    out["jwt-issuer"] = optional(c.jwt_issuer);
    out["kinto-url"] = optional(c.kinto_url);
    out["kinto-recheck"] = c.kinto_recheck_s;
    out["admin-secret"] = c.admin_secret_file ? json(nullptr) : secret(c.admin_secret);
    out["admin-secret-file"] = optional(c.admin_secret_file);
    out["webhook-allow-private"] = c.webhook_allow_private;
    out["webhook-disable-after"] = c.webhook_disable_after_s;
    out["webhook-timeout"] = c.webhook_timeout_s;
    out["webhook-backoff-initial-ms"] = c.webhook_backoff_initial_ms;
    out["webhook-backoff-max"] = c.webhook_backoff_max_s;
    auto origins = [](std::optional<auth::origin_list> const& v) { return v ? json(v->str()) : json(nullptr); };
    out["cors-origins"] = origins(c.cors_origins);
    out["allowed-origins"] = origins(c.allowed_origins);
    out["tls-cert"] = optional(c.tls_cert);
    out["tls-key"] = optional(c.tls_key);
    out["metrics-listen"] = c.metrics_host ? json(option_table::host_port(*c.metrics_host, c.metrics_port)) : json(nullptr);
    json broadcasts = json(nullptr);
    for (auto const& b : c.broadcasts) broadcasts.push_back(b.id + "=" + b.channel);
    out["broadcast"] = broadcasts;
    out["broadcast-debounce"] = c.broadcast_debounce_s;
    out["log-level"] = c.log_level;
    out["log-format"] = c.log_format;
    return out;
}

}  // namespace kp::server
