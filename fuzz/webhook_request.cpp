// Fuzz target: the bodies of the webhook endpoints (webhooks/webhook_request) and the codecs
// under them. The input is JSON text (anything), read as the endpoints read it (depth check,
// then parse), and given to the creation, PATCH and replay parsers. Invariants: what they
// accept obeys their rules (scheme, sizes, channel names without duplicates, since keys among
// the channels, max_batch 1..100, valid secrets), and an accepted creation makes a definition
// that survives the store's text. The raw input also goes through the strict base64 decoder:
// what it accepts encodes back to the same text.

#include "channels/channel_name.hpp"
#include "channels/json_depth.hpp"
#include "fuzz/fuzz_check.hpp"
#include "text/base64.hpp"
#include "webhooks/webhook_definition.hpp"
#include "webhooks/webhook_request.hpp"
#include "webhooks/webhook_signature.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

using namespace kp::webhooks;

namespace {

request_limits const limits{};

bool scheme_ok(std::string const& url) {
    std::string head = url.substr(0, 8);
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return (head.rfind("http://", 0) == 0 && url.size() > 7) || (head.rfind("https://", 0) == 0 && url.size() > 8);
}

void check_channels(std::vector<std::string> const& channels) {
    FUZZ_CHECK(!channels.empty() && channels.size() <= limits.max_channels);
    std::set<std::string> const unique(channels.begin(), channels.end());
    FUZZ_CHECK(unique.size() == channels.size());
    for (auto const& channel : channels) {
        auto const name = kp::channels::channel_name::parse(channel);
        FUZZ_CHECK(name && name->str() == channel);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const input(reinterpret_cast<char const*>(data), size);

    if (auto const bytes = kp::text::base64_decode(input)) FUZZ_CHECK(kp::text::base64_encode(*bytes) == input);

    if (!kp::channels::json_depth_within(input)) return 0;
    auto const body = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) return 0;

    auto const creation = webhook_request::parse_creation(body, limits);
    if (auto const* r = std::get_if<creation_request>(&creation)) {
        FUZZ_CHECK(r->url.size() <= limits.max_url_bytes && scheme_ok(r->url));
        check_channels(r->channels);
        FUZZ_CHECK(r->max_batch >= 1 && r->max_batch <= webhook_definition::max_batch_limit);
        FUZZ_CHECK(r->description.size() <= limits.max_description_bytes);
        if (r->secret) FUZZ_CHECK(valid_secret(*r->secret));
        if (r->since) {
            FUZZ_CHECK(r->since->timestamp.has_value() != !r->since->positions.empty());
            for (auto const& [channel, position] : r->since->positions) {
                FUZZ_CHECK(std::find(r->channels.begin(), r->channels.end(), channel) != r->channels.end());
                FUZZ_CHECK(!position.epoch.empty());
            }
        }
        webhook_definition d;
        d.id = webhook_definition::new_id();
        d.url = r->url;
        d.channels = r->channels;
        d.description = r->description;
        d.max_batch = r->max_batch;
        d.secret = r->secret.value_or("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        auto const back = webhook_definition::from_store_text(d.to_store_text());
        FUZZ_CHECK(back && back->url == d.url && back->channels == d.channels && back->description == d.description);
        FUZZ_CHECK(d.public_json().dump().find(d.secret) == std::string::npos);
    } else {
        FUZZ_CHECK(!std::get<request_error>(creation).field.empty());
    }

    auto const patch = webhook_request::parse_patch(body, limits);
    if (auto const* r = std::get_if<patch_request>(&patch)) {
        FUZZ_CHECK(r->url || r->channels || r->description || r->max_batch || r->enabled);
        if (r->url) FUZZ_CHECK(scheme_ok(*r->url));
        if (r->channels) check_channels(*r->channels);
    } else {
        FUZZ_CHECK(!std::get<request_error>(patch).field.empty());
    }

    auto const replay = webhook_request::parse_replay(body);
    if (auto const* r = std::get_if<replay_request>(&replay)) {
        FUZZ_CHECK(kp::channels::channel_name::parse(r->channel).has_value());
        FUZZ_CHECK(r->since.timestamp.has_value() != (r->since.positions.size() == 1));
        if (!r->since.positions.empty()) FUZZ_CHECK(r->since.positions.count(r->channel) == 1);
    } else {
        FUZZ_CHECK(!std::get<request_error>(replay).field.empty());
    }
    return 0;
}
