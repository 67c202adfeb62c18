// server/config/secret_file and the -file options of config_loader: a secret read from a file,
// its trailing newline dropped; unreadable, empty, masked or doubly given is a start-up error.

#include "server/config/config_loader.hpp"
#include "server/config/secret_file.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

using kp::server::command;
using kp::server::config_error;
using kp::server::config_loader;
using kp::server::secret_file;
using kp::server::secret_file_error;

namespace {

class secret_on_disk {
public:
    explicit secret_on_disk(std::string const& text) {
        static int counter = 0;
        path_ = std::filesystem::temp_directory_path() /
                ("kinto_push_secret_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
        std::ofstream(path_, std::ios::binary) << text;
    }
    ~secret_on_disk() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    secret_on_disk(secret_on_disk const&) = delete;
    secret_on_disk& operator=(secret_on_disk const&) = delete;
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

std::string error_of(std::variant<command, config_error> const& result) {
    REQUIRE(std::holds_alternative<config_error>(result));
    return std::get<config_error>(result).message;
}

}  // namespace

TEST_CASE("secret_file: the file less its trailing newlines", "[config][refusals]") {
    secret_on_disk const plain("s3cret\n");
    CHECK(std::get<std::string>(secret_file::read("jwt-secret-file", plain.path())) == "s3cret");
    secret_on_disk const crlf("a b\r\n\n");
    CHECK(std::get<std::string>(secret_file::read("jwt-secret-file", crlf.path())) == "a b");
    secret_on_disk const bare("no-newline");
    CHECK(std::get<std::string>(secret_file::read("jwt-secret-file", bare.path())) == "no-newline");
}

TEST_CASE("secret_file: unreadable, empty or masked is refused, naming option and file", "[config][refusals]") {
    auto const missing = (std::filesystem::temp_directory_path() / "kinto_push_no_such_secret").string();
    auto const unreadable = std::get<secret_file_error>(secret_file::read("admin-secret-file", missing)).message;
    CHECK_THAT(unreadable, Catch::StartsWith("--admin-secret-file " + missing + ": cannot be read"));
    secret_on_disk const empty("\n");
    CHECK_THAT(std::get<secret_file_error>(secret_file::read("admin-secret-file", empty.path())).message,
               Catch::EndsWith(": is empty"));
    secret_on_disk const masked("********\n");
    CHECK_THAT(std::get<secret_file_error>(secret_file::read("admin-secret-file", masked.path())).message,
               Catch::Contains("mask"));
}

TEST_CASE("the -file options set the secret from a flag, the environment or --config", "[config][refusals]") {
    secret_on_disk const file("from-a-file\n");
    auto from_flag = config_loader::load({"--publish-secret-file", file.path()}, {});
    REQUIRE(std::holds_alternative<command>(from_flag));
    CHECK(std::get<command>(from_flag).config.publish_secret == std::optional<std::string>("from-a-file"));

    auto from_env = config_loader::load({}, {{"KINTO_PUSH_JWT_SECRET_FILE", file.path()}});
    REQUIRE(std::holds_alternative<command>(from_env));
    CHECK(std::get<command>(from_env).config.jwt_secret == std::optional<std::string>("from-a-file"));

    secret_on_disk const config(R"({"admin_secret_file": ")" + file.path() + R"("})");
    auto from_config = config_loader::load({"--config", config.path()}, {});
    REQUIRE(std::holds_alternative<command>(from_config));
    auto const& loaded = std::get<command>(from_config).config;
    CHECK(loaded.admin_secret == std::optional<std::string>("from-a-file"));
    // --print-config shows the file, never the secret; fed back, it reads the file again.
    auto const shown = config_loader::effective(loaded);
    CHECK(shown["admin-secret-file"] == file.path());
    CHECK(shown["admin-secret"].is_null());
    CHECK(shown.dump().find("from-a-file") == std::string::npos);
}

TEST_CASE("a secret and its -file option together are refused", "[config][refusals]") {
    secret_on_disk const file("x\n");
    CHECK_THAT(error_of(config_loader::load({"--jwt-secret", "a", "--jwt-secret-file", file.path()}, {})),
               Catch::Contains("--jwt-secret and --jwt-secret-file are exclusive"));
    CHECK_THAT(error_of(config_loader::load({"--publish-secret-file", file.path()}, {{"KINTO_PUSH_PUBLISH_SECRET", "b"}})),
               Catch::Contains("--publish-secret and --publish-secret-file are exclusive"));
    secret_on_disk const empty("");
    CHECK_THAT(error_of(config_loader::load({"--admin-secret-file", empty.path()}, {})), Catch::Contains("is empty"));
}

TEST_CASE("the mask --print-config shows is never taken as a secret", "[config][refusals]") {
    for (std::string option : {"publish-secret", "jwt-secret", "admin-secret", "redis-password"}) {
        CAPTURE(option);
        CHECK_THAT(error_of(config_loader::load({"--" + option, "********"}, {})),
                   Catch::StartsWith("--" + option + "=********: is the mask --print-config shows"));
    }
    secret_on_disk const printed(R"({"publish-secret": "********", "jwt-secret": null})");
    CHECK_THAT(error_of(config_loader::load({"--config", printed.path()}, {})), Catch::Contains("mask"));
}

TEST_CASE("option --public-channels is checked as start-up checks it, --print-config too", "[config][refusals]") {
    CHECK_THAT(error_of(config_loader::load({"--public-channels", "/buckets"}, {})), Catch::StartsWith("--public-channels=/buckets: "));
    CHECK_THAT(error_of(config_loader::load({"--print-config", "--public-channels", "/buckets"}, {})),
               Catch::StartsWith("--public-channels=/buckets: "));
    CHECK(std::holds_alternative<command>(config_loader::load({"--public-channels", "/buckets/main/collections/*"}, {})));
}

TEST_CASE("a config file that is not JSON: the line and column of the fault", "[config][refusals]") {
    secret_on_disk const trailing("{\n  \"shards\": 2,\n}\n");
    auto const message = error_of(config_loader::load({"--config", trailing.path()}, {}));
    CHECK_THAT(message, Catch::StartsWith("--config " + trailing.path() + ": not JSON: line 3, column 1"));
}

TEST_CASE("several JWT secrets: the flag repeated, a list in --config, a file of lines", "[config][jwt-rotation]") {
    auto secrets_of = [](std::variant<command, config_error> const& result) {
        if (auto const* e = std::get_if<config_error>(&result)) FAIL(e->message);
        return std::get<command>(result).config.jwt_secret.value_or("(none)");
    };
    CHECK(secrets_of(config_loader::load({"--jwt-secret", "old", "--jwt-secret=new"}, {})) == "old\nnew");
    CHECK(secrets_of(config_loader::load({"--jwt-secret", "a,b"}, {})) == "a,b");   // commas belong to the secret
    secret_on_disk const config(R"({"jwt-secret": ["old", "new,with-comma"]})");
    CHECK(secrets_of(config_loader::load({"--config", config.path()}, {})) == "old\nnew,with-comma");
    secret_on_disk const lines("old\r\n\nnew\n");
    CHECK(secrets_of(config_loader::load({"--jwt-secret-file", lines.path()}, {})) == "old\r\n\nnew");

    // --print-config shows one mask, never a secret.
    auto const shown = config_loader::effective(std::get<command>(config_loader::load({"--jwt-secret", "old", "--jwt-secret", "new"}, {})).config);
    CHECK(shown["jwt-secret"] == "********");
    CHECK(shown.dump().find("old") == std::string::npos);
}

TEST_CASE("several JWT secrets: a masked or empty one is refused, showing only itself", "[config][jwt-rotation]") {
    auto const repeated = error_of(config_loader::load({"--jwt-secret", "kept-private", "--jwt-secret", "********"}, {}));
    CHECK(repeated == "--jwt-secret=********: is the mask --print-config shows (********), not a secret: give the real one");
    auto const first = error_of(config_loader::load({"--jwt-secret", "********", "--jwt-secret", "kept-private"}, {}));
    CHECK(first.find("kept-private") == std::string::npos);
    CHECK_THAT(error_of(config_loader::load({"--jwt-secret", "kept-private", "--jwt-secret="}, {})),
               Catch::StartsWith("--jwt-secret=: must not be empty"));
    secret_on_disk const config(R"({"jwt-secret": ["kept-private", "********"]})");
    auto const listed = error_of(config_loader::load({"--config", config.path()}, {}));
    CHECK_THAT(listed, Catch::Contains("mask"));
    CHECK(listed.find("kept-private") == std::string::npos);
    secret_on_disk const not_strings(R"({"jwt-secret": ["a", 1]})");
    CHECK_THAT(error_of(config_loader::load({"--config", not_strings.path()}, {})),
               Catch::EndsWith("jwt-secret: must be a list of secret strings"));
    // A file with a line that is the mask (a --print-config output pasted into it).
    secret_on_disk const masked_line("kept-private\n********\n");
    auto const from_file = error_of(config_loader::load({"--jwt-secret-file", masked_line.path()}, {}));
    CHECK_THAT(from_file, Catch::Contains("holds the mask"));
    CHECK(from_file.find("kept-private") == std::string::npos);
}

TEST_CASE("the JWKS, audience and issuer options", "[config][jwks]") {
    auto loaded = config_loader::load({"--jwt-jwks-url", "https://idp.test/jwks.json", "--jwt-jwks-refresh-min", "5",
                                       "--jwt-jwks-refresh", "60", "--jwt-audience", "push", "--jwt-issuer",
                                       "https://idp.test"},
                                      {});
    REQUIRE(std::holds_alternative<command>(loaded));
    auto const& c = std::get<command>(loaded).config;
    CHECK(c.jwt_jwks_url == std::optional<std::string>("https://idp.test/jwks.json"));
    CHECK(c.jwt_jwks_refresh_min_s == 5);
    CHECK(c.jwt_jwks_refresh_s == 60);
    CHECK(c.jwt_audience == std::optional<std::string>("push"));
    CHECK(c.jwt_issuer == std::optional<std::string>("https://idp.test"));
    auto const defaults = std::get<command>(config_loader::load({}, {})).config;
    CHECK(defaults.jwt_jwks_refresh_min_s == 30);
    CHECK(defaults.jwt_jwks_refresh_s == 300);
    CHECK_THAT(error_of(config_loader::load({"--jwt-jwks-url", "ftp://idp.test/jwks"}, {})),
               Catch::StartsWith("--jwt-jwks-url=ftp://idp.test/jwks: must be an http:// or https:// URL"));
    CHECK_THAT(error_of(config_loader::load({"--jwt-jwks-refresh-min", "0"}, {})),
               Catch::StartsWith("--jwt-jwks-refresh-min=0: must be a whole number from 1"));
    CHECK_THAT(error_of(config_loader::load({"--jwt-audience="}, {})), Catch::StartsWith("--jwt-audience=: must not be empty"));
}
