#include "clients/cli/tail_options_parser.hpp"

#include "channels/channel_name.hpp"
#include "text/unsigned_number.hpp"

#include <algorithm>
#include <optional>

namespace kp::cli {

namespace {

bool takes_value(std::string const& name) {
    static constexpr char const* with_value[] = {"url", "channel", "token", "state", "exec", "ca-file", "max-retries"};
    return std::any_of(std::begin(with_value), std::end(with_value), [&](char const* n) { return name == n; });
}

bool has_control_characters(std::string const& text) {
    return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace

std::variant<tail_options, usage_error, help_request> tail_options_parser::parse(std::vector<std::string> const& args) {
    std::optional<std::string> url_text;
    tail_options options{std::get<ws_url>(ws_url::parse(default_url)), {}, {}, {}, {}, {}, false, {}};
    auto once = [](std::optional<std::string>& slot, std::string const& name,
                   std::string const& value) -> std::optional<usage_error> {
        if (slot) return usage_error{"--" + name + " given twice"};
        slot = value;
        return std::nullopt;
    };

    // --help anywhere wins over any mistake elsewhere on the line.
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
        if (name == "insecure") {
            if (value) return usage_error{"--insecure takes no value"};
            options.insecure = true;
            continue;
        }
        if (!takes_value(name)) return usage_error{"unknown option --" + name + " (try --help)"};
        if (!value) {
            if (i + 1 >= args.size()) return usage_error{"option --" + name + " needs a value"};
            value = args[++i];
        }

        std::optional<usage_error> error;
        if (name == "url") {
            error = once(url_text, name, *value);
        } else if (name == "channel") {
            if (!channels::channel_name::parse(*value))
                return usage_error{"--channel " + *value + ": not a channel (" +
                                   std::string(channels::channel_name::grammar) + ")"};
            if (std::find(options.channels.begin(), options.channels.end(), *value) == options.channels.end())
                options.channels.push_back(*value);
        } else if (name == "token") {
            if (value->empty() || has_control_characters(*value) || value->front() == ' ' || value->back() == ' ')
                return usage_error{"--token must be non-empty, without control characters or outer spaces"};
            error = once(options.token, name, *value);
        } else if (name == "state") {
            if (value->empty()) return usage_error{"--state needs a file name"};
            error = once(options.state_file, name, *value);
        } else if (name == "exec") {
            if (value->empty()) return usage_error{"--exec needs a command"};
            error = once(options.exec, name, *value);
        } else if (name == "ca-file") {
            if (value->empty()) return usage_error{"--ca-file needs a file name"};
            error = once(options.ca_file, name, *value);
        } else if (name == "max-retries") {
            if (options.max_retries) return usage_error{"--max-retries given twice"};
            auto const n = text::parse_unsigned(*value);
            if (!n || *n > 1'000'000'000)
                return usage_error{"--max-retries " + *value + ": must be a whole number from 0 to 1000000000"};
            options.max_retries = *n;
        }
        if (error) return *error;
    }

    if (url_text) {
        auto parsed = ws_url::parse(*url_text);
        if (auto const* why = std::get_if<std::string>(&parsed)) return usage_error{"--url " + *url_text + ": " + *why};
        options.url = std::get<ws_url>(parsed);
    }
    if (options.channels.empty()) return usage_error{"at least one --channel is needed (try --help)"};
    if (options.insecure && options.ca_file) return usage_error{"--insecure and --ca-file exclude each other"};
    return options;
}

std::string tail_options_parser::usage() {
    return std::string(
               "kinto-push tail: print (or run a command for) every event of kinto-push channels\n"
               "\n"
               "Usage: kinto-push tail --channel CH [--channel CH ...] [OPTIONS]\n"
               "\n"
               "Each event is printed on stdout as one line: the JSON frame exactly as the server sent it.\n"
               "Status messages go to stderr. Reconnects and resumes by itself, without holes or duplicates.\n"
               "\n"
               "Options:\n"
               "  --url URL          ws://HOST:PORT/v1/ws, wss://..., or http(s)://HOST:PORT (/v1/ws is appended)\n"
               "                     default: ") +
           default_url +
           "\n"
           "  --channel CH       channel to follow: /buckets/BID/collections/CID, /buckets/BID or /buckets\n"
           "                     (repeat for several; at least one)\n"
           "  --token T          sent as Authorization: Bearer T when connecting (a JWT); a value with a\n"
           "                     scheme, such as 'Basic dXNlcjpwYXNz' (a Kinto account), is sent as is\n"
           "  --state FILE       positions per channel, saved atomically after each event and resumed from\n"
           "                     at the next start and on every reconnect\n"
           "  --exec CMD         run CMD with /bin/sh -c for each event, one at a time, in order, instead of\n"
           "                     printing it: the event's JSON on stdin, and KINTO_PUSH_CHANNEL,\n"
           "                     KINTO_PUSH_OFFSET, KINTO_PUSH_ACTION, KINTO_PUSH_TIMESTAMP, KINTO_PUSH_EPOCH\n"
           "                     in the environment; a failure is reported and tail carries on\n"
           "  --ca-file PEM      wss: trust the CAs in PEM instead of the system's\n"
           "  --insecure         wss: check neither the certificate nor the host name (tests only)\n"
           "  --max-retries N    give up after N consecutive failed connection attempts (default: never)\n"
           "  --help             this text\n"
           "\n"
           "Exit codes: 0 stopped by SIGINT/SIGTERM, 1 other error, 2 usage error, 3 authentication refused,\n"
           "4 protocol error, 5 could not connect within --max-retries.\n";
}

}  // namespace kp::cli
