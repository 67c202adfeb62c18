// server::config_loader: flags, KINTO_PUSH_* variables, --config FILE and defaults
// (PROTOCOL.md section 5).

#include "server/config/config_loader.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <variant>
#include <vector>

using kp::server::command;
using kp::server::config_error;
using kp::server::config_loader;
using kp::server::server_config;

namespace {

using args_t = std::vector<std::string>;
using env_t = config_loader::environment;

command load_ok(args_t const& args, env_t const& env = {}) {
    auto result = config_loader::load(args, env);
    if (auto const* error = std::get_if<config_error>(&result)) FAIL("unexpected config error: " << error->message);
    return std::get<command>(result);
}

server_config config_ok(args_t const& args, env_t const& env = {}) {
    auto const cmd = load_ok(args, env);
    REQUIRE(cmd.what == command::action::serve);
    return cmd.config;
}

std::string load_error(args_t const& args, env_t const& env = {}) {
    auto result = config_loader::load(args, env);
    if (std::holds_alternative<command>(result)) FAIL("expected a config error");
    return std::get<config_error>(result).message;
}

// A JSON config file that lives as long as the object.
class temp_file {
public:
    explicit temp_file(std::string const& text) {
        static int counter = 0;
        path_ = std::filesystem::temp_directory_path() /
                ("kinto_push_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + ".json");
        std::ofstream(path_) << text;
    }
    ~temp_file() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    temp_file(temp_file const&) = delete;
    temp_file& operator=(temp_file const&) = delete;
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

// Every option this build offers, a valid non-default value and how to read it back.
struct option_case {
    std::string name;
    std::string env;
    std::string value;
    std::function<bool(server_config const&)> applied;
};

std::vector<option_case> const& option_cases() {
    static std::vector<option_case> const cases = {
        {"listen", "KINTO_PUSH_LISTEN", "0.0.0.0:9001",
         [](server_config const& c) { return c.listen_host == "0.0.0.0" && c.listen_port == 9001; }},
        {"shards", "KINTO_PUSH_SHARDS", "3", [](server_config const& c) { return c.shards == 3; }},
        {"store", "KINTO_PUSH_STORE", "memory", [](server_config const& c) { return c.store == "memory"; }},
        {"durability", "KINTO_PUSH_DURABILITY", "normal",
         [](server_config const& c) { return c.durability == "normal"; }},
        {"history-cache", "KINTO_PUSH_HISTORY_CACHE", "42", [](server_config const& c) { return c.history_cache == 42; }},
        {"history-size", "KINTO_PUSH_HISTORY_SIZE", "12", [](server_config const& c) { return c.history_size == 12; }},
        {"history-ttl", "KINTO_PUSH_HISTORY_TTL", "60", [](server_config const& c) { return c.history_ttl_s == 60; }},
        {"redis-password", "KINTO_PUSH_REDIS_PASSWORD", "r3dis",
         [](server_config const& c) { return c.redis_password == std::optional<std::string>("r3dis"); }},
        {"redis-tls-ca", "KINTO_PUSH_REDIS_TLS_CA", "/etc/ssl/redis-ca.pem",
         [](server_config const& c) { return c.redis_tls_ca == std::optional<std::string>("/etc/ssl/redis-ca.pem"); }},
        {"publish-secret", "KINTO_PUSH_PUBLISH_SECRET", "hunter2",
         [](server_config const& c) { return c.publish_secret == std::optional<std::string>("hunter2"); }},
        {"max-body-bytes", "KINTO_PUSH_MAX_BODY_BYTES", "2048",
         [](server_config const& c) { return c.max_body_bytes == 2048; }},
        {"max-frame-bytes", "KINTO_PUSH_MAX_FRAME_BYTES", "1000",
         [](server_config const& c) { return c.max_frame_bytes == 1000; }},
        {"max-connections", "KINTO_PUSH_MAX_CONNECTIONS", "17",
         [](server_config const& c) { return c.max_connections == 17; }},
        {"max-subscriptions", "KINTO_PUSH_MAX_SUBSCRIPTIONS", "5",
         [](server_config const& c) { return c.max_subscriptions == 5; }},
        {"send-queue-bytes", "KINTO_PUSH_SEND_QUEUE_BYTES", "65536",
         [](server_config const& c) { return c.send_queue_bytes == 65536; }},
        {"max-replay", "KINTO_PUSH_MAX_REPLAY", "77", [](server_config const& c) { return c.max_replay == 77; }},
        {"heartbeat", "KINTO_PUSH_HEARTBEAT", "9", [](server_config const& c) { return c.heartbeat_s == 9; }},
        {"request-timeout", "KINTO_PUSH_REQUEST_TIMEOUT", "3",
         [](server_config const& c) { return c.request_timeout_s == 3; }},
        {"socket-send-buffer", "KINTO_PUSH_SOCKET_SEND_BUFFER", "16384",
         [](server_config const& c) { return c.socket_send_buffer == 16384; }},
        {"compression", "KINTO_PUSH_COMPRESSION", "off", [](server_config const& c) { return !c.compression; }},
        {"log-level", "KINTO_PUSH_LOG_LEVEL", "debug", [](server_config const& c) { return c.log_level == "debug"; }},
        {"metrics-listen", "KINTO_PUSH_METRICS_LISTEN", "10.0.0.5:9102",
         [](server_config const& c) { return c.metrics_host == std::optional<std::string>("10.0.0.5") && c.metrics_port == 9102; }},
        {"log-format", "KINTO_PUSH_LOG_FORMAT", "mozlog", [](server_config const& c) { return c.log_format == "mozlog"; }},
        {"broadcast", "KINTO_PUSH_BROADCAST", "remote-settings/monitor_changes=/buckets/main",
         [](server_config const& c) {
             return c.broadcasts ==
                    std::vector<kp::push::broadcast_spec>{{"remote-settings/monitor_changes", "/buckets/main"}};
         }},
        {"broadcast-debounce", "KINTO_PUSH_BROADCAST_DEBOUNCE", "300",
         [](server_config const& c) { return c.broadcast_debounce_s == 300; }},
        {"cors-origins", "KINTO_PUSH_CORS_ORIGINS", "https://app.example.com,http://127.0.0.1:9000",
         [](server_config const& c) {
             return c.cors_origins && c.cors_origins->str() == "https://app.example.com,http://127.0.0.1:9000";
         }},
        {"allowed-origins", "KINTO_PUSH_ALLOWED_ORIGINS", "https://app.example.com",
         [](server_config const& c) { return c.allowed_origins && c.allowed_origins->str() == "https://app.example.com"; }},
    };
    return cases;
}

}  // namespace

TEST_CASE("defaults follow PROTOCOL.md section 5", "[config]") {
    auto const c = config_ok({});
    CHECK(c.listen_host == "127.0.0.1");
    CHECK(c.listen_port == 8080);
    CHECK(c.shards == 0);   // number of cores
    CHECK(c.store == "sqlite:./data/kinto-push.sqlite3");
    CHECK(c.durability == "full");
    CHECK(c.history_size == 1000);
    CHECK(c.history_ttl_s == 86400);
    CHECK(c.history_cache == 500);
    CHECK_FALSE(c.publish_secret);
    CHECK(c.max_body_bytes == 4194304);
    CHECK(c.max_frame_bytes == 65536);
    CHECK(c.max_connections == 100000);
    CHECK(c.max_subscriptions == 256);
    CHECK(c.send_queue_bytes == 4194304);
    CHECK(c.max_replay == 10000);
    CHECK(c.heartbeat_s == 25);
    CHECK(c.request_timeout_s == 30);
    CHECK(c.socket_send_buffer == 0);
    CHECK(c.compression);
    CHECK(c.log_format == "text");
    CHECK(c.log_level == "info");
}

TEST_CASE("the serve subcommand is accepted", "[config]") {
    CHECK(load_ok({"serve"}).what == command::action::serve);
    auto const c = config_ok({"serve", "--shards", "2"});
    CHECK(c.shards == 2);
    CHECK_THAT(load_error({"frobnicate"}), Catch::Contains("frobnicate"));
    CHECK_THAT(load_error({"--shards", "2", "serve"}), Catch::Contains("serve"));
}

TEST_CASE("every option is read from --name value, --name=value and its variable", "[config]") {
    for (auto const& o : option_cases()) {
        CAPTURE(o.name, o.value);
        CHECK(o.applied(config_ok({"--" + o.name, o.value})));
        CHECK(o.applied(config_ok({"--" + o.name + "=" + o.value})));
        CHECK(o.applied(config_ok({}, {{o.env, o.value}})));
    }
    CHECK(config_ok({"--store", "sqlite:/var/lib/kinto-push/h.sqlite3"}).store == "sqlite:/var/lib/kinto-push/h.sqlite3");
    CHECK(config_ok({"--store", "redis://10.0.0.5:6379/1"}).store == "redis://10.0.0.5:6379/1");
    CHECK(config_ok({"--store", "rediss://:pw@redis.internal:6380/0"}).store == "rediss://:pw@redis.internal:6380/0");
    // A value that itself contains '=' is kept whole.
    CHECK(config_ok({"--publish-secret=a=b=c"}).publish_secret == std::optional<std::string>("a=b=c"));
}

TEST_CASE("a flag beats the environment, which beats --config FILE, which beats the default", "[config]") {
    temp_file const file(R"({"heartbeat": 30, "max_replay": 7, "history-size": 11, "listen": "0.0.0.0:7000",
                             "publish_secret": "from-file"})");
    env_t const env = {{"KINTO_PUSH_HEARTBEAT", "40"}, {"KINTO_PUSH_MAX_REPLAY", "8"}};

    auto const c = config_ok({"--config", file.path(), "--heartbeat", "50"}, env);
    CHECK(c.heartbeat_s == 50);        // flag
    CHECK(c.max_replay == 8);          // environment
    CHECK(c.history_size == 11);       // file
    CHECK(c.listen_port == 7000);      // file
    CHECK(c.listen_host == "0.0.0.0");
    CHECK(c.publish_secret == std::optional<std::string>("from-file"));
    CHECK(c.max_subscriptions == 256); // default

    // The order of the arguments does not matter.
    auto const reordered = config_ok({"--heartbeat=50", "--config=" + file.path()}, env);
    CHECK(reordered.heartbeat_s == 50);
    CHECK(reordered.max_replay == 8);
    CHECK(reordered.history_size == 11);

    // Without the flag, the environment wins over the file.
    CHECK(config_ok({"--config", file.path()}, env).heartbeat_s == 40);
    // Without either, the file wins over the default.
    CHECK(config_ok({"--config", file.path()}).heartbeat_s == 30);
    // A flag beats a bad environment value it overrides.
    CHECK(config_ok({"--shards", "4"}, {{"KINTO_PUSH_SHARDS", "zero"}}).shards == 4);
}

TEST_CASE("KINTO_PUSH_CONFIG names the config file, and --config beats it", "[config]") {
    temp_file const one(R"({"history_size": 21})");
    temp_file const two(R"({"history_size": 22})");
    CHECK(config_ok({}, {{"KINTO_PUSH_CONFIG", one.path()}}).history_size == 21);
    CHECK(config_ok({"--config", two.path()}, {{"KINTO_PUSH_CONFIG", one.path()}}).history_size == 22);
}

TEST_CASE("a bad config file is an error naming it", "[config]") {
    std::string const missing = (std::filesystem::temp_directory_path() / "kinto_push_no_such_config.json").string();
    CHECK_THAT(load_error({"--config", missing}), Catch::Contains(missing));

    temp_file const not_json("{nope");
    CHECK_THAT(load_error({"--config", not_json.path()}), Catch::Contains(not_json.path()));
    temp_file const not_object("[1, 2]");
    CHECK_THAT(load_error({"--config", not_object.path()}), Catch::Contains(not_object.path()));

    temp_file const unknown(R"({"frobs": 1})");
    auto const message = load_error({"--config", unknown.path()});
    CHECK_THAT(message, Catch::Contains(unknown.path()) && Catch::Contains("frobs"));

    temp_file const bad_value(R"({"shards": 0})");
    auto const bad = load_error({"--config", bad_value.path()});
    CHECK_THAT(bad, Catch::Contains(bad_value.path()) && Catch::Contains("shards") && Catch::Contains("0"));
}

TEST_CASE("an unknown option is an error naming it", "[config]") {
    CHECK_THAT(load_error({"--frobnicate", "1"}), Catch::Contains("--frobnicate"));
    CHECK_THAT(load_error({"--frobnicate=1"}), Catch::Contains("--frobnicate"));
    CHECK_THAT(load_error({"--shards", "2", "--no-such-thing"}), Catch::Contains("--no-such-thing"));
    CHECK_THAT(load_error({"--shards", "2", "stray"}), Catch::Contains("stray"));
}

TEST_CASE("an option without its value is an error naming it", "[config]") {
    CHECK_THAT(load_error({"--shards"}), Catch::Contains("--shards"));
    CHECK_THAT(load_error({"--heartbeat", "5", "--listen"}), Catch::Contains("--listen"));
}

TEST_CASE("a bad flag value is an error naming the flag and the value", "[config]") {
    struct bad_case {
        std::string flag;
        std::string value;
    };
    for (auto const& [flag, value] : {bad_case{"shards", "0"},
                                      bad_case{"shards", "257"},
                                      bad_case{"shards", "-1"},
                                      bad_case{"shards", "2x"},
                                      bad_case{"shards", "+2"},
                                      bad_case{"shards", " 2"},
                                      bad_case{"shards", "2 "},
                                      bad_case{"shards", ""},
                                      bad_case{"history-size", "18446744073709551616"},
                                      bad_case{"listen", "localhost:+80"},
                                      bad_case{"listen", "nohost"},
                                      bad_case{"listen", ":8080"},
                                      bad_case{"listen", "localhost:"},
                                      bad_case{"listen", "localhost:65536"},
                                      bad_case{"listen", "localhost:http"},
                                      bad_case{"heartbeat", "abc"},
                                      bad_case{"heartbeat", "0"},
                                      bad_case{"heartbeat", "1.5"},
                                      bad_case{"request-timeout", "0"},
                                      bad_case{"request-timeout", "3601"},
                                      bad_case{"socket-send-buffer", "4095"},
                                      bad_case{"socket-send-buffer", "67108865"},
                                      bad_case{"socket-send-buffer", "-1"},
                                      bad_case{"max-frame-bytes", "1"},
                                      bad_case{"max-body-bytes", "12"},
                                      bad_case{"history-size", "0"},
                                      bad_case{"history-ttl", "forever"},
                                      bad_case{"max-replay", "0"},
                                      bad_case{"max-connections", "0"},
                                      bad_case{"max-subscriptions", "0"},
                                      bad_case{"send-queue-bytes", "10"},
                                      bad_case{"store", "postgres://db"},
                                      bad_case{"store", "sqlite:"},
                                      bad_case{"store", "redis://h:1/db"},
                                      bad_case{"store", "redis://:99999"},
                                      bad_case{"redis-password", ""},
                                      bad_case{"durability", "sometimes"},
                                      bad_case{"history-cache", "0"},
                                      bad_case{"log-level", "loud"},
                                      bad_case{"metrics-listen", "9102"},
                                      bad_case{"metrics-listen", "[::1]:70000"},
                                      bad_case{"compression", "yes"},
                                      bad_case{"compression", "ON"},
                                      bad_case{"log-format", "xml"}}) {
        CAPTURE(flag, value);
        CHECK_THAT(load_error({"--" + flag, value}), Catch::Contains("--" + flag) && Catch::Contains(value));
        CHECK_THAT(load_error({"--" + flag + "=" + value}), Catch::Contains("--" + flag) && Catch::Contains(value));
    }
    CHECK_THAT(load_error({"--publish-secret="}), Catch::Contains("--publish-secret"));
}

TEST_CASE("whole numbers may have leading zeros (text::parse_unsigned)", "[config]") {
    auto const c = load_ok({"--shards", "004", "--listen", "127.0.0.1:0080", "--broadcast-debounce", "00"}).config;
    CHECK(c.shards == 4);
    CHECK(c.listen_port == 80);
    CHECK(c.broadcast_debounce_s == 0);
}

TEST_CASE("a bad environment value is an error naming the variable and the value", "[config]") {
    CHECK_THAT(load_error({}, {{"KINTO_PUSH_SHARDS", "zero"}}),
               Catch::Contains("KINTO_PUSH_SHARDS") && Catch::Contains("zero"));
    CHECK_THAT(load_error({}, {{"KINTO_PUSH_LISTEN", "nohost"}}),
               Catch::Contains("KINTO_PUSH_LISTEN") && Catch::Contains("nohost"));
    CHECK_THAT(load_error({}, {{"KINTO_PUSH_MAX_FRAME_BYTES", "1"}}), Catch::Contains("KINTO_PUSH_MAX_FRAME_BYTES"));
}

TEST_CASE("unknown KINTO_PUSH_* variables are ignored", "[config]") {
    auto const c = config_ok({}, {{"KINTO_PUSH_BIN", "/usr/bin/kinto-push"},
                                  {"KINTO_PUSH_SOMETHING_ELSE", "x"},
                                  {"KINTO_PUSH_shards", "0"},
                                  {"SHARDS", "0"},
                                  {"KINTO_PUSH_HEARTBEAT", "7"}});
    CHECK(c.heartbeat_s == 7);
    CHECK(c.shards == 0);
}

TEST_CASE("IPv6 and port 0 listen addresses", "[config]") {
    auto const v6 = config_ok({"--listen", "[::1]:8081"});
    CHECK(v6.listen_host == "::1");
    CHECK(v6.listen_port == 8081);
    auto const any = config_ok({"--listen=localhost:0"});
    CHECK(any.listen_host == "localhost");
    CHECK(any.listen_port == 0);
}

TEST_CASE("options --help and --version are actions", "[config]") {
    CHECK(load_ok({"--help"}).what == command::action::help);
    CHECK(load_ok({"-h"}).what == command::action::help);
    CHECK(load_ok({"serve", "--help"}).what == command::action::help);
    CHECK(load_ok({"--shards", "2", "--help"}).what == command::action::help);
    CHECK(load_ok({"--version"}).what == command::action::version);
    CHECK(load_ok({"serve", "--version"}).what == command::action::version);
}

TEST_CASE("help mentions every option, its variable and its default", "[config]") {
    std::string const help = config_loader::help();
    for (auto const& o : option_cases()) {
        CAPTURE(o.name);
        CHECK_THAT(help, Catch::Contains("--" + o.name + " "));
        CHECK_THAT(help, Catch::Contains(o.env));
    }
    CHECK_THAT(help, Catch::Contains("--config"));
    CHECK_THAT(help, Catch::Contains("KINTO_PUSH_CONFIG"));
    CHECK_THAT(help, Catch::Contains("--help"));
    CHECK_THAT(help, Catch::Contains("--version"));
    for (char const* fallback : {"127.0.0.1:8080", "sqlite:./data/kinto-push.sqlite3", "86400", "4194304", "65536",
                                 "100000", "10000"}) {
        CAPTURE(fallback);
        CHECK_THAT(help, Catch::Contains(fallback));
    }
}

TEST_CASE("config file values must be strings or numbers; null keeps the default", "[config]") {
    for (char const* text : {R"({"history-size": true})", R"({"history-size": [1]})", R"({"history-size": {"n": 1}})"}) {
        CAPTURE(text);
        temp_file const file(text);
        CHECK_THAT(load_error({"--config", file.path()}),
                   Catch::Contains(file.path()) && Catch::Contains("history-size") && Catch::Contains("string or a number"));
    }
    temp_file const negative(R"({"max_replay": -1})");
    CHECK_THAT(load_error({"--config", negative.path()}), Catch::Contains("max_replay=-1"));
    temp_file const nulls(R"({"publish-secret": null, "history-size": null, "heartbeat": "12"})");
    auto const c = config_ok({"--config", nulls.path()});
    CHECK_FALSE(c.publish_secret);
    CHECK(c.history_size == 1000);
    CHECK(c.heartbeat_s == 12);
}

TEST_CASE("print-config is an action that still reads every option", "[config]") {
    auto const cmd = load_ok({"--shards", "3", "--print-config", "--publish-secret", "s"});
    CHECK(cmd.what == command::action::print_config);
    CHECK(cmd.config.shards == 3);
    CHECK_THAT(load_error({"--print-config", "--shards", "0"}), Catch::Contains("--shards"));
    CHECK_THAT(config_loader::help(), Catch::Contains("--print-config"));
}

TEST_CASE("the effective configuration names every option and masks the secrets", "[config]") {
    auto const c = config_ok({"--publish-secret", "pub-secret", "--jwt-secret", "jwt-value-x", "--listen", "[::1]:9000",
                              "--kinto-url", "https://kinto.example.com/v1", "--shards", "4"});
    auto const shown = config_loader::effective(c);
    std::vector<std::string> keys;
    for (auto it = shown.begin(); it != shown.end(); ++it) keys.push_back(it.key());
    CHECK(keys == config_loader::option_names());
    CHECK(shown["publish-secret"] == config_loader::mask);
    CHECK(shown["jwt-secret"] == config_loader::mask);
    CHECK(shown.dump().find("pub-secret") == std::string::npos);
    CHECK(shown.dump().find("jwt-value-x") == std::string::npos);
    CHECK(shown["listen"] == "[::1]:9000");
    CHECK(shown["shards"] == 4);
    CHECK(shown["kinto-url"] == "https://kinto.example.com/v1");
    CHECK(shown["tls-cert"].is_null());
    CHECK(shown["metrics-listen"].is_null());
    CHECK(config_loader::effective(config_ok({"--metrics-listen", "[::1]:9102"}))["metrics-listen"] == "[::1]:9102");
    auto const defaults = config_loader::effective(config_ok({}));
    CHECK(defaults["publish-secret"].is_null());
    CHECK(defaults["history-size"] == 1000);
    CHECK(defaults["shards"].get<std::size_t>() >= 1);   // 0 shows the number of cores
}

TEST_CASE("broadcast: repeatable, comma-separated in the environment, a list in the file", "[config][broadcast]") {
    using spec = kp::push::broadcast_spec;
    std::vector<spec> const two = {{"rs/monitor_changes", "/buckets/main"}, {"rs/blocklist", "/buckets/blocklists/collections/addons"}};
    CHECK(config_ok({}).broadcasts.empty());
    CHECK(config_ok({}).broadcast_debounce_s == 0);
    CHECK(config_ok({"--broadcast", "rs/monitor_changes=/buckets/main", "--broadcast=rs/blocklist=/buckets/blocklists/collections/addons"})
              .broadcasts == two);
    CHECK(config_ok({}, {{"KINTO_PUSH_BROADCAST", "rs/monitor_changes=/buckets/main,rs/blocklist=/buckets/blocklists/collections/addons"}})
              .broadcasts == two);
    temp_file const file(R"({"broadcast": ["rs/monitor_changes=/buckets/main", "rs/blocklist=/buckets/blocklists/collections/addons"],
                             "broadcast_debounce": 30})");
    auto const from_file = config_ok({"--config", file.path()});
    CHECK(from_file.broadcasts == two);
    CHECK(from_file.broadcast_debounce_s == 30);
    // A stronger source replaces the whole list.
    CHECK(config_ok({"--config", file.path(), "--broadcast", "a/b=/buckets"}).broadcasts == std::vector<spec>{{"a/b", "/buckets"}});
    CHECK(config_ok({"--config", file.path()}, {{"KINTO_PUSH_BROADCAST", "a/b=/buckets"}}).broadcasts ==
          std::vector<spec>{{"a/b", "/buckets"}});
}

TEST_CASE("bad --broadcast values stop start-up with a message", "[config][broadcast]") {
    CHECK_THAT(load_error({"--broadcast", "monitor_changes=/buckets/main"}), Catch::Contains("BROADCASTER/NAME"));
    CHECK_THAT(load_error({"--broadcast", "rs/monitor_changes"}), Catch::Contains("ID=CHANNEL"));
    CHECK_THAT(load_error({"--broadcast", "rs/x=/buckets/main/records"}), Catch::Contains("not a channel name"));
    CHECK_THAT(load_error({"--broadcast", "rs/x y=/buckets"}), Catch::Contains("BROADCASTER/NAME"));
    CHECK_THAT(load_error({"--broadcast", "rs/x=/buckets", "--broadcast", "rs/x=/buckets/b"}), Catch::Contains("twice"));
    CHECK_THAT(load_error({"--broadcast", ","}), Catch::Contains("ID=CHANNEL"));
    CHECK_THAT(load_error({"--broadcast-debounce", "86401"}), Catch::Contains("--broadcast-debounce"));
    temp_file const file(R"({"broadcast": ["rs/x=/buckets", 3]})");
    CHECK_THAT(load_error({"--config", file.path()}), Catch::Contains("list of ID=CHANNEL"));
    // At most 64 broadcasts: one bit each.
    std::string many;
    for (int i = 0; i < 64; ++i) many += (i ? "," : "") + std::string("rs/b") + std::to_string(i) + "=/buckets";
    CHECK(config_ok({"--broadcast", many}).broadcasts.size() == 64);
    CHECK_THAT(load_error({"--broadcast", many + ",rs/b64=/buckets"}), Catch::Contains("at most 64"));
}

TEST_CASE("cors-origins and allowed-origins: unset by default, * or origins, a list in the file", "[config][cors]") {
    auto const defaults = config_ok({});
    CHECK_FALSE(defaults.cors_origins);
    CHECK_FALSE(defaults.allowed_origins);
    CHECK(config_loader::effective(defaults)["cors-origins"].is_null());
    CHECK(config_loader::effective(defaults)["allowed-origins"].is_null());
    CHECK(config_ok({"--cors-origins", "*"}).cors_origins->any());
    // Shown normalized, as the server compares them.
    auto const c = config_ok({"--cors-origins", "HTTPS://App.example.com:443",
                              "--allowed-origins", " http://127.0.0.1:9000 , http://127.0.0.1:9000"});
    CHECK(config_loader::effective(c)["cors-origins"] == "https://app.example.com");
    CHECK(config_loader::effective(c)["allowed-origins"] == "http://127.0.0.1:9000");
    temp_file const file(R"({"cors_origins": ["https://a.example", "https://b.example"], "allowed-origins": "*"})");
    auto const from_file = config_ok({"--config", file.path()});
    CHECK(from_file.cors_origins->str() == "https://a.example,https://b.example");
    CHECK(from_file.allowed_origins->any());
    // A stronger source replaces the whole list.
    CHECK(config_ok({"--config", file.path()}, {{"KINTO_PUSH_CORS_ORIGINS", "https://c.example"}}).cors_origins->str() ==
          "https://c.example");
}

TEST_CASE("bad origins stop start-up with a message naming the option and the origin", "[config][cors]") {
    CHECK_THAT(load_error({"--cors-origins", "https://app.example.com/"}),
               Catch::Contains("--cors-origins=https://app.example.com/") && Catch::Contains("trailing slash"));
    CHECK_THAT(load_error({"--allowed-origins", "app.example.com"}),
               Catch::Contains("--allowed-origins=app.example.com") && Catch::Contains("no scheme"));
    CHECK_THAT(load_error({}, {{"KINTO_PUSH_CORS_ORIGINS", "https://ok.example,https://*.example"}}),
               Catch::Contains("KINTO_PUSH_CORS_ORIGINS") && Catch::Contains("'https://*.example'"));
    CHECK_THAT(load_error({"--cors-origins", ""}), Catch::Contains("names no origin"));
    CHECK_THAT(load_error({"--cors-origins", "*,https://a.example"}), Catch::Contains("stands alone"));
    temp_file const file(R"({"allowed_origins": ["https://a.example", 3]})");
    CHECK_THAT(load_error({"--config", file.path()}), Catch::Contains("allowed_origins: must be a list of origin strings"));
    temp_file const empty(R"({"cors_origins": []})");
    CHECK_THAT(load_error({"--config", empty.path()}), Catch::Contains("names no origin"));
}

TEST_CASE("A switch is true alone, and takes true or false from a value, the environment or the file", "[config]") {
    CHECK_FALSE(config_ok({}).webhook_allow_private);
    CHECK(config_ok({"--webhook-allow-private"}).webhook_allow_private);
    CHECK(config_ok({"--webhook-allow-private", "--listen", "127.0.0.1:0"}).webhook_allow_private);
    CHECK_FALSE(config_ok({"--webhook-allow-private=false"}).webhook_allow_private);
    CHECK(config_ok({}, {{"KINTO_PUSH_WEBHOOK_ALLOW_PRIVATE", "1"}}).webhook_allow_private);
    CHECK_THAT(load_error({"--webhook-allow-private=maybe"}), Catch::Contains("must be true or false"));
    temp_file file(R"({"webhook-allow-private": true, "webhook-timeout": 3})");
    auto config = config_ok({"--config", file.path()});
    CHECK(config.webhook_allow_private);
    CHECK(config.webhook_timeout_s == 3);
}
